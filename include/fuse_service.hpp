/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file fuse_service.hpp
 * @brief The C++20 API for contained FUSE servers (namespace `fsvc`).
 *
 * Header-only and inline over the C functions of fuse_service.h: the shared
 * library exports exactly its C ABI. Define `FUSE_USE_VERSION` 319 (or
 * higher) before including it, as for fuse_service.h. No function throws;
 * errors are values (fsvc::Result with a negative errno inside), so the API
 * is usable from `-fno-exceptions` code.
 *
 * The call sequence of a low-level server, and what the types enforce:
 *
 * @code
 * fsvc::Accepted accepted = fsvc::accept();
 * switch (accepted.outcome()) {
 * case fsvc::Accepted::Outcome::not_activated: return run_classic(argc, argv);
 * case fsvc::Accepted::Outcome::error: return fsvc::exit_status(1);
 * case fsvc::Accepted::Outcome::service: break;
 * }
 * fsvc::Service service = std::move(accepted).service();
 * auto args = service.args(argc, argv);            // the user's command line
 * fuse_opt_parse(args->get(), &cfg, my_opts, my_proc);
 * auto fd = service.request_file(cfg.source, O_RDONLY);   // fsvc::UniqueFD
 * auto ready = std::move(service).finish_file_requests(); // no more files
 * auto opts = fsvc::parse_cmdline_opts(*args);     // generic options
 * se = fuse_session_new(args->get(), &ops, sizeof(ops), priv);
 * ready->mount(se, *opts);                         // the helper mounts
 * std::move(*ready).goodbye(0);                    // mount(8) returns here
 * fuse_session_loop(se);
 * @endcode
 *
 * What is a compile error, and what is an error value:
 * - copying fsvc::Service, fsvc::ReadyService, fsvc::Args,
 *   fsvc::CmdlineOpts or fsvc::UniqueFD: compile error (deleted copy);
 * - ignoring a returned descriptor, result or status: compile error with
 *   `-Werror` (`[[nodiscard]]`);
 * - requesting a file after finish_file_requests(): compile error (only
 *   fsvc::Service has request_file(); finishing turns it into a
 *   fsvc::ReadyService);
 * - mounting before finish_file_requests(): compile error (only
 *   fsvc::ReadyService has mount());
 * - using an object after it was moved from or consumed (by
 *   finish_file_requests() or goodbye()), or taking the service out of an
 *   fsvc::Accepted that holds none: every operation returns `-EBADF` (the
 *   language cannot reject use-after-move);
 * - the goodbye: sent at most once; a service object destroyed without one
 *   sends a goodbye with a failure code, so mount(8) fails at once instead
 *   of waiting for its timeout;
 * - reading Result::value() of a failed result terminates the process.
 */
#ifndef FUSE_SERVICE_HPP_
#define FUSE_SERVICE_HPP_

#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include "fuse_service_types.hpp"

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <utility>
#include <vector>

#if !defined(FUSE_USE_VERSION) || FUSE_USE_VERSION < FUSE_MAKE_VERSION(3, 19)
#error "define FUSE_USE_VERSION 319 (or higher) before including fuse_service.hpp"
#endif

/** The C++ API of fuse-service. */
namespace fsvc
{

/** Why a file request failed. */
struct FileError {
	/** What went wrong. */
	enum class Kind {
		/** The helper answered and refused to open the file; @ref code is
		 *  its errno (-EACCES, -ENOENT, -ENOTBLK, -EROFS...; -EBUSY is
		 *  worth a retry). The conversation goes on. */
		refused,
		/** The request was not sent: empty path, a NUL in it, a path of
		 *  PATH_MAX bytes or more, or unknown request flags (-EINVAL,
		 *  -ENAMETOOLONG). The conversation goes on. */
		invalid,
		/** The conversation is broken (a socket or protocol failure:
		 *  -ECONNRESET when the helper hung up, -EBADMSG for a malformed
		 *  reply, -EMSGSIZE, -EBADF for an empty service object). Give
		 *  up. */
		broken,
	};
	/** The negative errno. */
	int code;
	/** Where it came from. */
	Kind kind;

	/** Did the helper refuse the open (rather than the conversation fail)? */
	[[nodiscard]] bool refused() const noexcept { return kind == Kind::refused; }
};

/** An opened file from the helper, or why there is none. */
using FileResult = Result<UniqueFD, FileError>;

/** request_file() flag: the helper prints nothing when the open fails. */
inline constexpr unsigned int request_quiet = FUSE_SERVICE_REQUEST_FILE_QUIET;

/**
 * An owning `struct fuse_args`: the command line for libfuse.
 *
 * get() is what fuse_opt_parse(), fuse_session_new() and
 * parse_cmdline_opts() take. The object is also a read-only range of
 * `std::string_view` over the current list (invalidated when the list
 * changes: fuse_opt_parse() replaces it). user() keeps what the helper
 * sent, unaffected by later parsing. Move-only.
 */
class Args
{
public:
	/** A random-access iterator yielding `std::string_view`. */
	class iterator
	{
	public:
		using iterator_category = std::random_access_iterator_tag;
		using iterator_concept = std::random_access_iterator_tag;
		using value_type = std::string_view;
		using difference_type = std::ptrdiff_t;
		using reference = std::string_view;

		iterator() noexcept = default;
		explicit iterator(char *const *p) noexcept : p_(p) {}
		std::string_view operator*() const noexcept { return *p_; }
		std::string_view operator[](difference_type n) const noexcept { return p_[n]; }
		iterator &operator++() noexcept
		{
			++p_;
			return *this;
		}
		iterator operator++(int) noexcept { return iterator(p_++); }
		iterator &operator--() noexcept
		{
			--p_;
			return *this;
		}
		iterator operator--(int) noexcept { return iterator(p_--); }
		iterator &operator+=(difference_type n) noexcept
		{
			p_ += n;
			return *this;
		}
		iterator &operator-=(difference_type n) noexcept
		{
			p_ -= n;
			return *this;
		}
		friend iterator operator+(iterator i, difference_type n) noexcept { return i += n; }
		friend iterator operator+(difference_type n, iterator i) noexcept { return i += n; }
		friend iterator operator-(iterator i, difference_type n) noexcept { return i -= n; }
		friend difference_type operator-(iterator a, iterator b) noexcept
		{
			return a.p_ - b.p_;
		}
		friend bool operator==(const iterator &, const iterator &) noexcept = default;
		friend auto operator<=>(const iterator &, const iterator &) noexcept = default;

	private:
		char *const *p_ = nullptr;
	};

	/** An empty list. */
	Args() = default;
	/** A copy of @p argc / @p argv (e.g. main()'s), for the classic path. */
	Args(int argc, const char *const *argv)
	{
		for (int i = 0; i < argc && argv && argv[i]; i++)
			(void)add(argv[i]);
	}
	Args(Args &&) noexcept = default;
	Args &operator=(Args &&) noexcept = default;
	Args(const Args &) = delete;
	Args &operator=(const Args &) = delete;
	~Args() = default;

	/**
	 * The list for libfuse; stays owned by this object. Its address does
	 * not change when the object is moved: the library recognises the
	 * list that Service::args() built by its address when
	 * parse_cmdline_opts() parses it. NULL for a moved-from object.
	 */
	[[nodiscard]] fuse_args *get() noexcept { return a_.get(); }
	[[nodiscard]] const fuse_args *get() const noexcept { return a_.get(); }

	[[nodiscard]] iterator begin() const noexcept { return iterator(a_ ? a_->argv : nullptr); }
	[[nodiscard]] iterator end() const noexcept { return begin() + size(); }
	[[nodiscard]] std::size_t size() const noexcept
	{
		return a_ && a_->argc > 0 && a_->argv ? static_cast<std::size_t>(a_->argc) : 0;
	}
	[[nodiscard]] bool empty() const noexcept { return size() == 0; }
	/** Entry @p i; @p i must be below size(). */
	[[nodiscard]] std::string_view operator[](std::size_t i) const noexcept
	{
		return a_->argv[i];
	}

	/** Append @p arg (fuse_opt_add_arg()); -EINVAL for a NUL inside. */
	[[nodiscard]] Status add(std::string_view arg)
	{
		if (arg.find('\0') != std::string_view::npos)
			return Error{-EINVAL};
		if (!a_)
			return Error{-EBADF};
		std::string copy(arg);
		return fuse_opt_add_arg(a_.get(), copy.c_str()) == 0 ? Status{} : Error{-ENOMEM};
	}

	/**
	 * What the user passed to the helper (source, mountpoint, `-o`
	 * options..., as the helper sent them, the subtype excluded). Empty
	 * unless the list came from Service::args().
	 */
	[[nodiscard]] std::span<const std::string_view> user() const noexcept { return user_; }

private:
	friend class Service;

	/* Record the helper's part of a list just built by append_args. */
	void record_user(std::size_t first)
	{
		for (std::size_t i = first; i < size(); i++)
			user_store_.emplace_back(a_->argv[i]);
		/* Views after all strings exist: the vector no longer moves them. */
		for (const auto &s : user_store_)
			user_.emplace_back(s);
	}

	struct Free {
		void operator()(fuse_args *a) const noexcept
		{
			fuse_opt_free_args(a);
			delete a;
		}
	};
	/* On the heap, so that moving the object keeps the list's address. */
	std::unique_ptr<fuse_args, Free> a_{new fuse_args FUSE_ARGS_INIT(0, nullptr)};
	std::vector<std::string> user_store_;
	std::vector<std::string_view> user_;
};

/**
 * The generic options (`struct fuse_cmdline_opts`), owning the mountpoint
 * string. Move-only.
 */
class CmdlineOpts
{
public:
	CmdlineOpts() noexcept = default;
	CmdlineOpts(CmdlineOpts &&other) noexcept : o_(other.o_) { other.o_.mountpoint = nullptr; }
	CmdlineOpts &operator=(CmdlineOpts &&other) noexcept
	{
		if (this != &other) {
			std::free(o_.mountpoint);
			o_ = other.o_;
			other.o_.mountpoint = nullptr;
		}
		return *this;
	}
	CmdlineOpts(const CmdlineOpts &) = delete;
	CmdlineOpts &operator=(const CmdlineOpts &) = delete;
	~CmdlineOpts() { std::free(o_.mountpoint); }

	[[nodiscard]] fuse_cmdline_opts *get() noexcept { return &o_; }
	[[nodiscard]] const fuse_cmdline_opts *get() const noexcept { return &o_; }
	fuse_cmdline_opts *operator->() noexcept { return &o_; }
	const fuse_cmdline_opts *operator->() const noexcept { return &o_; }
	/** The mountpoint exactly as given; empty when there was none. */
	[[nodiscard]] std::string_view mountpoint() const noexcept
	{
		return o_.mountpoint ? std::string_view(o_.mountpoint) : std::string_view();
	}

private:
	fuse_cmdline_opts o_{};
};

/**
 * Parse the generic options (fuse_service_parse_cmdline_opts()): the
 * mountpoint kept verbatim, `-o` options only the helper uses removed from
 * @p args.
 *
 * @return the options; -EINVAL for a parse error (libfuse logged why)
 */
[[nodiscard]] inline Result<CmdlineOpts> parse_cmdline_opts(Args &args) noexcept
{
	CmdlineOpts opts;
	if (fuse_service_parse_cmdline_opts(args.get(), opts.get()) != 0)
		return Error{-EINVAL};
	return opts;
}

/**
 * The effective command line for logs or setproctitle():
 * `"argv0 -t subtype args..."` (fuse_service_cmdline()); empty when there
 * are no arguments.
 */
[[nodiscard]] inline std::string command_line(int argc, const char *const *argv, Args &args)
{
	char *line = fuse_service_cmdline(argc, argv, args.get());
	if (!line)
		return {};
	std::string s(line);
	std::free(line);
	return s;
}

/**
 * Turn a result into a process exit status (fuse_service_exit()):
 * EXIT_SUCCESS for 0, else EXIT_FAILURE; under systemd it first waits about
 * two seconds so the journal can attribute the last lines to the unit.
 */
[[nodiscard]] inline int exit_status(int ret) noexcept
{
	return fuse_service_exit(ret);
}

namespace detail
{

/* Owns the C context; the failure goodbye on destruction lives here. */
class Handle
{
public:
	Handle() noexcept = default;
	explicit Handle(fuse_service *sf) noexcept : sf_(sf) {}
	Handle(Handle &&other) noexcept : sf_(std::exchange(other.sf_, nullptr)) {}
	Handle &operator=(Handle &&other) noexcept
	{
		if (this != &other) {
			close();
			sf_ = std::exchange(other.sf_, nullptr);
		}
		return *this;
	}
	Handle(const Handle &) = delete;
	Handle &operator=(const Handle &) = delete;
	~Handle() { close(); }

	[[nodiscard]] fuse_service *get() const noexcept { return sf_; }

	/* Send the goodbye (at most once: the context is gone afterwards). */
	[[nodiscard]] Status goodbye(int exitcode) noexcept
	{
		if (!sf_)
			return Error{-EBADF};
		int r = fuse_service_send_goodbye(sf_, exitcode);
		fuse_service_destroy(&sf_);
		return status_from(r);
	}

private:
	void close() noexcept
	{
		if (!sf_)
			return;
		/* Not said yet (a no-op when it was): mount(8) fails now. */
		(void)fuse_service_send_goodbye(sf_, EXIT_FAILURE);
		fuse_service_destroy(&sf_);
	}

	fuse_service *sf_ = nullptr;
};

} // namespace detail

class ReadyService;
class Accepted;
[[nodiscard]] Accepted accept() noexcept;

/**
 * A socket-activated service in its first phase: arguments and file
 * requests. Move-only. finish_file_requests() consumes it and returns the
 * fsvc::ReadyService that can mount. Destroying it sends a failure goodbye.
 * An empty object (moved from, consumed, or from an fsvc::Accepted that
 * held no service) answers every operation with -EBADF.
 */
class Service
{
public:
	/** An empty object. */
	Service() noexcept = default;
	Service(Service &&) noexcept = default;
	Service &operator=(Service &&) noexcept = default;
	Service(const Service &) = delete;
	Service &operator=(const Service &) = delete;
	~Service() = default;

	/** Does the object hold a live service context? */
	[[nodiscard]] bool valid() const noexcept { return h_.get() != nullptr; }
	/** May the server ask for `allow_other`? */
	[[nodiscard]] bool can_allow_other() const noexcept
	{
		return valid() && fuse_service_can_allow_other(h_.get());
	}
	/** May the server ask for a `fuseblk` mount? */
	[[nodiscard]] bool can_fuseblk() const noexcept
	{
		return valid() && fuse_service_can_fuseblk(h_.get());
	}

	/**
	 * The command line: `[subtype, argv[1..argc-1], what the user passed to
	 * the helper...]` (fuse_service_append_args()). Pass main()'s
	 * argc/argv. Works once: the helper's argument file is consumed.
	 *
	 * @return the list; -EBADF when already taken or the object is empty,
	 *         -EBADMSG for a malformed argument file, -ENOMEM
	 */
	[[nodiscard]] Result<Args> args(int argc, char **argv)
	{
		if (!valid())
			return Error{-EBADF};
		Args out;
		*out.a_ = fuse_args FUSE_ARGS_INIT(argc, argv);
		int r = fuse_service_append_args(h_.get(), out.get());
		if (r < 0) {
			/* The list still points at the caller's argv: not ours to free. */
			*out.a_ = fuse_args FUSE_ARGS_INIT(0, nullptr);
			return Error{r};
		}
		out.record_user(static_cast<std::size_t>(argc > 1 ? argc : 1));
		return out;
	}

	/**
	 * Have the helper open @p path (as the user named it on the command
	 * line) with the caller's privileges: request and receive in one call.
	 *
	 * @param path the path as the user gave it
	 * @param open_flags open(2) flags; O_CLOEXEC is always added
	 * @param create_mode mode for O_CREAT
	 * @param request_flags 0 or fsvc::request_quiet
	 * @return the descriptor, or a FileError telling a refusal by the
	 *         helper from an invalid request and a broken conversation
	 */
	[[nodiscard]] FileResult request_file(std::string_view path, int open_flags,
					      mode_t create_mode = 0,
					      unsigned int request_flags = 0) const
	{
		return request(path, false, open_flags, create_mode, request_flags, 0);
	}

	/**
	 * Like request_file(), for a block device: the helper refuses anything
	 * else (-ENOTBLK) and, when @p block_size is nonzero, sets the device
	 * block size.
	 */
	[[nodiscard]] FileResult request_blockdev(std::string_view path, int open_flags,
						  unsigned int block_size, mode_t create_mode = 0,
						  unsigned int request_flags = 0) const
	{
		return request(path, true, open_flags, create_mode, request_flags, block_size);
	}

	/**
	 * No more file requests: the helper can never push another descriptor
	 * into the process. Consumes this object.
	 *
	 * @return the service in its mount phase; on failure the context is
	 *         released with a failure goodbye (-EBADF for an empty object)
	 */
	[[nodiscard]] Result<ReadyService> finish_file_requests() &&;

	/**
	 * Say goodbye with @p exitcode (nonzero: giving up) and release the
	 * context. Consumes this object. Only needed for a specific code: the
	 * destructor says goodbye with EXIT_FAILURE.
	 */
	[[nodiscard]] Status goodbye(int exitcode) &&noexcept { return h_.goodbye(exitcode); }

	/** The C context, for C code (still owned by this object); NULL if empty. */
	[[nodiscard]] fuse_service *c_handle() const noexcept { return h_.get(); }

private:
	friend class Accepted;
	friend class ReadyService;
	friend Accepted accept() noexcept;
	explicit Service(fuse_service *sf) noexcept : h_(sf) {}

	[[nodiscard]] FileResult request(std::string_view path, bool blockdev, int open_flags,
					 mode_t create_mode, unsigned int request_flags,
					 unsigned int block_size) const
	{
		using Kind = FileError::Kind;
		if (!valid())
			return FileError{-EBADF, Kind::broken};
		if (path.empty() || path.find('\0') != std::string_view::npos ||
		    (request_flags & ~request_quiet) != 0)
			return FileError{-EINVAL, Kind::invalid};
		if (path.size() >= PATH_MAX)
			return FileError{-ENAMETOOLONG, Kind::invalid};
		std::string p(path);
		int r = blockdev
			    ? fuse_service_request_blockdev(h_.get(), p.c_str(), open_flags,
							    create_mode, request_flags, block_size)
			    : fuse_service_request_file(h_.get(), p.c_str(), open_flags,
							create_mode, request_flags);
		if (r < 0)
			return FileError{r, Kind::broken};
		int fd = -1;
		r = fuse_service_receive_file(h_.get(), p.c_str(), &fd);
		if (r < 0)
			return FileError{r, Kind::broken};
		if (fd < 0)
			return FileError{fd, Kind::refused};
		return UniqueFD(fd);
	}

	detail::Handle h_;
};

/**
 * A service in its mount phase: file requests are over. Move-only;
 * destroying it before goodbye() sends a failure goodbye. Empty objects
 * answer -EBADF.
 */
class ReadyService
{
public:
	/** An empty object. */
	ReadyService() noexcept = default;
	ReadyService(ReadyService &&) noexcept = default;
	ReadyService &operator=(ReadyService &&) noexcept = default;
	ReadyService(const ReadyService &) = delete;
	ReadyService &operator=(const ReadyService &) = delete;
	~ReadyService() = default;

	/** Does the object hold a live service context? */
	[[nodiscard]] bool valid() const noexcept { return h_.get() != nullptr; }
	/** May the server ask for `allow_other`? */
	[[nodiscard]] bool can_allow_other() const noexcept
	{
		return valid() && fuse_service_can_allow_other(h_.get());
	}
	/** May the server ask for a `fuseblk` mount? */
	[[nodiscard]] bool can_fuseblk() const noexcept
	{
		return valid() && fuse_service_can_fuseblk(h_.get());
	}

	/**
	 * Bind @p se to the helper's /dev/fuse descriptor and have the helper
	 * mount it on the mountpoint of @p opts (fuse_service_session_mount()).
	 * On success the session owns the device fd and `opts->foreground` is
	 * 1.
	 *
	 * @param se a session from fuse_session_new(), not yet mounted
	 * @param opts the options from parse_cmdline_opts()
	 * @param expected_fmt S_IFDIR (a directory mountpoint) or S_IFREG
	 * @return success; -EINVAL (no session, no mountpoint, bad format),
	 *         -EBADF (empty object, or the device was already used), the
	 *         helper's refusal (-EPERM, -ENOTDIR...), or a protocol failure
	 *         (-EBADMSG, -EMSGSIZE, -ECONNRESET)
	 */
	[[nodiscard]] Status mount(fuse_session *se, CmdlineOpts &opts,
				   mode_t expected_fmt = S_IFDIR) noexcept
	{
		if (!valid())
			return Error{-EBADF};
		if (!se || opts.mountpoint().empty())
			return Error{-EINVAL};
		return status_from(
		    fuse_service_session_mount(h_.get(), se, expected_fmt, opts.get()));
	}

	/**
	 * Say goodbye and release the context; consumes this object. Send 0
	 * right after a successful mount (mount(8) returns then), nonzero when
	 * giving up.
	 */
	[[nodiscard]] Status goodbye(int exitcode) &&noexcept { return h_.goodbye(exitcode); }

	/** The C context, for C code (still owned by this object); NULL if empty. */
	[[nodiscard]] fuse_service *c_handle() const noexcept { return h_.get(); }

private:
	friend class Service;
	explicit ReadyService(detail::Handle h) noexcept : h_(std::move(h)) {}

	detail::Handle h_;
};

inline Result<ReadyService> Service::finish_file_requests() &&
{
	detail::Handle h = std::move(h_);
	if (!h.get())
		return Error{-EBADF};
	int r = fuse_service_finish_file_requests(h.get());
	if (r < 0)
		return Error{r}; /* h says goodbye with a failure code */
	return ReadyService(std::move(h));
}

/**
 * What fsvc::accept() found: not socket-activated, a service, or an error.
 */
class [[nodiscard]] Accepted
{
public:
	/** The three outcomes of accepting. */
	enum class Outcome {
		/** Not started by socket activation: run as a classic server. */
		not_activated,
		/** A service: take it with service(). */
		service,
		/** Activation failed; error() says why. */
		error,
	};

	[[nodiscard]] Outcome outcome() const noexcept { return outcome_; }
	/** The negative errno for Outcome::error, else 0. */
	[[nodiscard]] int error() const noexcept { return error_; }

	/**
	 * Take the service. Consumes this object; for an outcome other than
	 * Outcome::service the result is an empty fsvc::Service (every
	 * operation -EBADF).
	 */
	[[nodiscard]] Service service() &&noexcept { return std::move(service_); }

private:
	friend Accepted accept() noexcept;
	Accepted(Outcome outcome, int error, Service service) noexcept
	    : outcome_(outcome), error_(error), service_(std::move(service))
	{
	}

	Outcome outcome_;
	int error_;
	Service service_;
};

/**
 * Accept the connection from the mount helper (fuse_service_accept()):
 * checks the socket-activation fd, negotiates the protocol, receives the
 * argument file and /dev/fuse.
 */
[[nodiscard]] inline Accepted accept() noexcept
{
	fuse_service *sf = nullptr;
	int r = fuse_service_accept(&sf);
	if (r < 0) {
		fuse_service_destroy(&sf);
		return Accepted(Accepted::Outcome::error, r, Service());
	}
	if (!sf)
		return Accepted(Accepted::Outcome::not_activated, 0, Service());
	return Accepted(Accepted::Outcome::service, 0, Service(sf));
}

} // namespace fsvc

#endif /* FUSE_SERVICE_HPP_ */
