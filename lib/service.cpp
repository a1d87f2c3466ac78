/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C boundary of libfuse_service: every exported function lives here, is
 * noexcept, and turns C arguments into C++ calls and results into negative
 * errno values.
 */
#include <fuse_service.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/argv_memfd.h"
#include "lib/activation.h"
#include "lib/cmdline.h"
#include "lib/mount_options.h"
#include "lib/service_context.h"

using namespace fsvc;

extern "C" {

FUSE_SERVICE_EXPORT int fuse_service_accept(struct fuse_service **sfp) noexcept
{
	if (!sfp)
		return -EINVAL;
	*sfp = nullptr;

	/* Not socket-activated (or activated for another process): not an error. */
	int nfds = listen_fds(false);
	if (nfds == 0)
		return 0;
	if (nfds < 0) {
		log_error("service socket activation: %s", std::strerror(-nfds));
		return nfds;
	}

	auto sock = take_activation_socket(nfds);
	if (!sock)
		return sock.error();

	std::unique_ptr<fuse_service> sf(new (std::nothrow) fuse_service);
	if (!sf)
		return -ENOMEM;
	sf->sock = std::move(*sock);

	if (int r = open_conversation(*sf); r < 0) {
		::shutdown(sf->sock.get(), SHUT_RDWR);
		return r;
	}

	register_context(sf.get());
	*sfp = sf.release();
	return 0;
}

FUSE_SERVICE_EXPORT bool fuse_service_can_allow_other(const struct fuse_service *sf) noexcept
{
	return sf && sf->allow_other;
}

FUSE_SERVICE_EXPORT bool fuse_service_can_fuseblk(const struct fuse_service *sf) noexcept
{
	return sf && sf->can_fuseblk;
}

FUSE_SERVICE_EXPORT void fuse_service_release(struct fuse_service *sf) noexcept
{
	if (!sf)
		return;
	sf->fusedev.reset();
	sf->argv_fd.reset();
	if (sf->sock.isValid())
		::shutdown(sf->sock.get(), SHUT_RDWR);
	sf->sock.reset();
}

FUSE_SERVICE_EXPORT void fuse_service_destroy(struct fuse_service **sfp) noexcept
{
	if (!sfp)
		return;
	if (*sfp) {
		unregister_context(*sfp);
		fuse_service_release(*sfp);
		delete *sfp;
	}
	*sfp = nullptr;
}

FUSE_SERVICE_EXPORT int fuse_service_append_args(struct fuse_service *sf,
						 struct fuse_args *args) noexcept
{
	if (!sf || !args)
		return -EINVAL;
	if (!sf->argv_fd.isValid()) {
		log_error("service args file already consumed");
		return -EBADF;
	}
	auto helper_args = read_argv_memfd(sf->argv_fd.get());
	if (!helper_args) {
		log_error("service args file: %s", std::strerror(-helper_args.error()));
		return helper_args.error();
	}

	/* [subtype, our argv[1..], the helper's argv[1..]] */
	fuse_args merged = FUSE_ARGS_INIT(0, nullptr);
	bool ok = fuse_opt_add_arg(&merged, helper_args->front().c_str()) == 0;
	for (int i = 1; ok && i < args->argc; i++)
		ok = fuse_opt_add_arg(&merged, args->argv[i]) == 0;
	for (size_t i = 1; ok && i < helper_args->size(); i++)
		ok = fuse_opt_add_arg(&merged, (*helper_args)[i].c_str()) == 0;
	if (!ok) {
		fuse_opt_free_args(&merged);
		return -ENOMEM;
	}

	fuse_opt_free_args(args);
	*args = merged;
	sf->argv_fd.reset();
	record_args(*sf, *args);
	return 0;
}

FUSE_SERVICE_EXPORT char *fuse_service_cmdline(int argc, const char *const *argv,
					       struct fuse_args *args) noexcept
{
	if (!args || args->argc <= 0)
		return nullptr;
	const char *argv0 = argc > 0 && argv && argv[0] ? argv[0] : args->argv[0];
	std::string s = service_cmdline(argv0, *args);
	return ::strdup(s.c_str());
}

FUSE_SERVICE_EXPORT int fuse_service_parse_cmdline_opts(struct fuse_args *args,
							struct fuse_cmdline_opts *opts) noexcept
{
	if (!args || !opts)
		return -1;
	return parse_service_cmdline(*args, *opts);
}

FUSE_SERVICE_EXPORT int fuse_service_request_file(const struct fuse_service *sf, const char *path,
						  int open_flags, mode_t create_mode,
						  unsigned int request_flags) noexcept
{
	if (!sf || !path)
		return -EINVAL;
	return request_path(*sf, path, false, open_flags, create_mode, request_flags, 0);
}

FUSE_SERVICE_EXPORT int fuse_service_request_blockdev(const struct fuse_service *sf,
						      const char *path, int open_flags,
						      mode_t create_mode,
						      unsigned int request_flags,
						      unsigned int block_size) noexcept
{
	if (!sf || !path)
		return -EINVAL;
	return request_path(*sf, path, true, open_flags, create_mode, request_flags, block_size);
}

FUSE_SERVICE_EXPORT int fuse_service_receive_file(const struct fuse_service *sf, const char *path,
						  int *fdp) noexcept
{
	if (!sf || !path || !fdp)
		return -EINVAL;
	*fdp = -ENOENT;
	int r = receive_file(*sf, path, fdp);
	if (r < 0)
		*fdp = r;
	return r;
}

FUSE_SERVICE_EXPORT int fuse_service_finish_file_requests(const struct fuse_service *sf) noexcept
{
	if (!sf)
		return -EINVAL;
	int zero = 0;
	if (::setsockopt(sf->sock.get(), SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero)) < 0) {
		/* Kernels before 6.16 do not know the option: nothing to turn off. */
		if (errno == ENOPROTOOPT)
			return 0;
		int err = errno;
		log_error("disabling fd passing: %s", std::strerror(err));
		return -err;
	}
	return 0;
}

FUSE_SERVICE_EXPORT void fuse_service_expect_mount_format(struct fuse_service *sf,
							  mode_t expected_fmt) noexcept
{
	if (sf)
		sf->expected_fmt = expected_fmt;
}

FUSE_SERVICE_EXPORT int fuse_service_session_mount(struct fuse_service *sf, struct fuse_session *se,
						   mode_t expected_fmt,
						   struct fuse_cmdline_opts *opts) noexcept
{
	if (!sf || !se || !opts)
		return -EINVAL;
	if (!opts->mountpoint) {
		log_error("service mount: no mountpoint given");
		return -EINVAL;
	}
	if (!sf->fusedev.isValid()) {
		log_error("service mount: the fuse device was already used");
		return -EBADF;
	}
	if (expected_fmt == 0)
		expected_fmt = sf->expected_fmt;
	if (expected_fmt != 0 && expected_fmt != S_IFDIR && expected_fmt != S_IFREG) {
		log_error("service mount: expected format must be S_IFDIR, S_IFREG or 0");
		return -EINVAL;
	}

	auto req = compute_mount_request(sf->seen_args);
	if (!req) {
		log_error("service mount: cannot parse the mount options");
		return req.error();
	}

	/* The session takes the fd when this works; "/dev/fd/N" is how to say so. */
	std::string dev = "/dev/fd/" + std::to_string(sf->fusedev.get());
	errno = 0;
	if (fuse_session_mount(se, dev.c_str()) != 0)
		return errno ? -errno : -EINVAL;
	(void)sf->fusedev.release();

	struct Step {
		const char *what;
		proto::Command cmd;
	};
	std::vector<Step> steps;
	steps.push_back({"fsopen", proto::FsopenCommand{req->fuseblk ? proto::kFsopenFuseblk : 0}});
	steps.push_back({"fs source", proto::SourceCommand{req->source}});
	steps.push_back(
	    {"fs mountpoint",
	     proto::MountpointCommand{static_cast<uint16_t>(expected_fmt), opts->mountpoint}});
	if (req->kernel_opts)
		steps.push_back({"fs mount options", proto::MntOptsCommand{*req->kernel_opts}});
	if (req->mtab_opts)
		steps.push_back({"fs mtab options", proto::MtabOptsCommand{*req->mtab_opts}});
	steps.push_back({"mount", proto::MountCommand{req->ms_flags}});

	for (const Step &step : steps)
		if (int r = send_command(*sf, step.what, step.cmd); r < 0)
			return r;

	/* systemd tracks the main process: stay in the foreground, off the mount. */
	opts->foreground = 1;
	if (::chdir("/") < 0) {
		/* not fatal: we only wanted to let go of the old directory */
	}
	return 0;
}

FUSE_SERVICE_EXPORT int fuse_service_send_goodbye(struct fuse_service *sf, int exitcode) noexcept
{
	if (!sf || !sf->sock.isValid())
		return 0;
	int r =
	    send_to_helper(*sf, proto::encode(proto::ByeCommand{static_cast<uint32_t>(exitcode)}));
	if (r < 0) {
		log_error("send service goodbye: %s", std::strerror(-r));
		return r;
	}
	::shutdown(sf->sock.get(), SHUT_RDWR);
	sf->sock.reset();
	return 0;
}

FUSE_SERVICE_EXPORT int fuse_service_exit(int ret) noexcept
{
	/*
	 * journald attributes a log line to a unit by the sender's pid; if we
	 * exit at once, the last lines of a failing service lose their unit.
	 * Only worth waiting for when there is a journal to write to.
	 */
	if (std::getenv("JOURNAL_STREAM") || std::getenv("INVOCATION_ID"))
		::sleep(2);
	return ret != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

} // extern "C"
