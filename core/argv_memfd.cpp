/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/argv_memfd.h"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/protocol.h"
#include "core/wire.h"

namespace fsvc
{

namespace
{

constexpr size_t kHeaderSize = 8;
constexpr size_t kEntrySize = 8;

/*
 * pwrite() (write) or pread() the whole of buf at offset 0, retrying on
 * EINTR: the number of bytes moved, short only at end of file (pread) or
 * when the file takes no more (pwrite returning 0).
 */
Result<size_t> transfer_all(int fd, std::span<std::byte> buf, bool write)
{
	size_t done = 0;
	while (done < buf.size()) {
		const off_t off = static_cast<off_t>(done);
		ssize_t n = write ? ::pwrite(fd, buf.data() + done, buf.size() - done, off)
				  : ::pread(fd, buf.data() + done, buf.size() - done, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return Error{-errno};
		}
		if (n == 0)
			break;
		done += static_cast<size_t>(n);
	}
	return done;
}

} // namespace

Result<UniqueFD> write_argv_memfd(std::span<const std::string_view> args)
{
	if (args.empty())
		return Error{-EINVAL};
	if (args.size() > kMaxArgc)
		return Error{err::kOverLimit};

	size_t total = kHeaderSize + args.size() * kEntrySize;
	for (std::string_view a : args) {
		if (a.find('\0') != std::string_view::npos)
			return Error{-EINVAL};
		if (a.size() + 1 > kMaxArgLength)
			return Error{err::kOverLimit};
		total += a.size() + 1;
	}
	if (total > kMaxArgvFileSize)
		return Error{err::kOverLimit};

	proto::Writer w(proto::kArgsMagic);
	w.u32(static_cast<uint32_t>(args.size()));
	size_t pos = kHeaderSize + args.size() * kEntrySize;
	for (std::string_view a : args) {
		const size_t len = a.size() + 1;
		w.u32(static_cast<uint32_t>(pos)).u32(static_cast<uint32_t>(len));
		pos += len;
	}
	for (std::string_view a : args)
		w.cstr(a);
	proto::Bytes buf = w.take(kMaxArgvFileSize);
	if (buf.size() != total) /* cannot happen: every bound was checked above */
		return Error{-EINVAL};

	UniqueFD fd(::memfd_create("fuse service argv", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd.isValid())
		return Error{-errno};
	auto written = transfer_all(fd.get(), buf, true);
	if (!written)
		return Error{written.error()};
	if (*written != buf.size())
		return Error{-EIO};
	/* Seal it: the server reads exactly what we wrote, and cannot change it. */
	if (::fcntl(fd.get(), F_ADD_SEALS,
		    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return Error{-errno};
	return fd;
}

Result<std::vector<std::string>> read_argv_memfd(int fd)
{
	struct stat st;
	if (::fstat(fd, &st) < 0)
		return Error{-errno};
	if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kHeaderSize) ||
	    st.st_size > static_cast<off_t>(kMaxArgvFileSize))
		return Error{err::kProtocol};

	/* One snapshot; every later check is against this buffer only. */
	std::vector<std::byte> buf(static_cast<size_t>(st.st_size));
	auto got = transfer_all(fd, buf, false);
	if (!got)
		return Error{got.error()};
	buf.resize(*got);
	const std::span<const std::byte> file(buf);
	proto::Reader r(file);
	const uint32_t magic = r.u32();
	const uint64_t argc = r.u32();
	if (!r.ok() || magic != proto::kArgsMagic)
		return Error{err::kProtocol};
	if (argc == 0 || argc > kMaxArgc || kHeaderSize + argc * kEntrySize > file.size())
		return Error{err::kProtocol};

	std::vector<std::string> out;
	out.reserve(argc);
	for (uint64_t i = 0; i < argc; i++) {
		const uint64_t pos = r.u32();
		const uint64_t len = r.u32();
		if (len == 0 || len > kMaxArgLength || pos + len > file.size())
			return Error{err::kProtocol};
		auto s = file.subspan(pos, len);
		if (s.back() != std::byte{0})
			return Error{err::kProtocol};
		std::string arg(reinterpret_cast<const char *>(s.data()), len - 1);
		if (arg.find('\0') != std::string::npos)
			return Error{err::kProtocol};
		out.push_back(std::move(arg));
	}
	return out;
}

} // namespace fsvc
