/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file fuse_service.h
 * @brief Run a FUSE server as a contained, socket-activated service.
 *
 * A server built with this API does not open its device, its backing files
 * or /dev/fuse itself and never calls mount(2). It is started by a socket
 * unit (`Accept=yes`) when a user runs `mount -t fuse.SUBTYPE ...`; the
 * setuid helper `fuservicemount3` connects, hands over the command line and
 * a /dev/fuse descriptor, opens files for the server with the *caller's*
 * privileges, and performs the mount. The server can therefore run as a
 * dynamic user with no devices, no network and a narrow system-call filter.
 *
 * The call sequence of a low-level server:
 *
 * @code
 * struct fuse_service *sf;
 * if (fuse_service_accept(&sf) < 0)
 *         return 1;
 * if (!fuse_service_accepted(sf))
 *         return run_classic(argc, argv);     // not socket-activated
 * fuse_service_append_args(sf, &args);        // the user's command line
 * fuse_opt_parse(&args, &cfg, my_opts, my_proc); // own options, the source
 * fuse_service_request_file(sf, cfg.dev, O_RDWR, 0, 0);
 * fuse_service_receive_file(sf, cfg.dev, &fd); // opened by the helper
 * fuse_service_finish_file_requests(sf);
 * fuse_service_parse_cmdline_opts(&args, &opts); // generic ones, mountpoint
 * se = fuse_session_new(&args, &ops, sizeof(ops), priv);
 * fuse_service_session_mount(sf, se, S_IFDIR, &opts);
 * fuse_service_send_goodbye(sf, 0);           // mount(8) returns here
 * fuse_session_loop(se);
 * ...
 * fuse_service_destroy(&sf);
 * return fuse_service_exit(ret);
 * @endcode
 *
 * The wire protocol is version 1 of libfuse 3.19's service protocol; this
 * header declares the same functions with the same contracts, so a server
 * written for upstream builds against this library unchanged.
 *
 * Unless stated otherwise, functions return 0 on success and a negative
 * errno value on failure, and report details through fuse_log().
 */
#ifndef FUSE_SERVICE_H_
#define FUSE_SERVICE_H_

#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#if FUSE_USE_VERSION >= FUSE_MAKE_VERSION(3, 19)

#ifdef __cplusplus
#define FUSE_SERVICE_NOEXCEPT noexcept
extern "C" {
#else
#define FUSE_SERVICE_NOEXCEPT
#endif

/** Opaque service context: the connection to one mount helper. */
struct fuse_service;

struct fuse_operations;

/**
 * Accept the connection from the mount helper.
 *
 * Looks for exactly one socket passed by socket activation
 * (`LISTEN_FDS=1`, `LISTEN_PID` = this process, fd 3), checks that it is a
 * connected `AF_UNIX` `SOCK_SEQPACKET` socket, negotiates the protocol
 * version, and receives the argument memfd and the /dev/fuse descriptor.
 *
 * When the process was not socket-activated, succeeds with `*sfp == NULL`
 * and logs nothing, so a server can fall back to running classically.
 *
 * @param sfp receives the new context, or NULL; always written
 * @return 0, or a negative errno (-E2BIG: more than one socket passed;
 *         -ENOTSOCK / -EAFNOSUPPORT / -ESOCKTNOSUPPORT: fd 3 is not a
 *         connected AF_UNIX SOCK_SEQPACKET socket; -ENOBUFS: send buffer
 *         too small; -EBADMSG / -EOPNOTSUPP / -EINVAL: bad hello;
 *         -EBADMSG: a malformed argv/fusedev reply; -EMSGSIZE: a packet
 *         over 64 KiB; the helper's errno when it refused argv/fusedev;
 *         -ECONNRESET: the helper hung up)
 */
int fuse_service_accept(struct fuse_service **sfp) FUSE_SERVICE_NOEXCEPT;

/**
 * Was the process started as a service?
 *
 * @param sf the context from fuse_service_accept()
 * @return true when @p sf is a live service context
 */
static inline bool fuse_service_accepted(const struct fuse_service *sf)
{
	return sf != NULL;
}

/**
 * May the server ask for `allow_other`? True when the helper runs for root,
 * or `user_allow_other` is set in fuse.conf.
 */
bool fuse_service_can_allow_other(const struct fuse_service *sf) FUSE_SERVICE_NOEXCEPT;

/** May the server ask for a `fuseblk` mount? True only for root. */
bool fuse_service_can_fuseblk(const struct fuse_service *sf) FUSE_SERVICE_NOEXCEPT;

/**
 * Close every descriptor the context holds (socket, argument memfd, and the
 * /dev/fuse fd unless a session took it). The structure stays allocated.
 */
void fuse_service_release(struct fuse_service *sf) FUSE_SERVICE_NOEXCEPT;

/**
 * Release and free a context, then set `*sfp` to NULL. NULL-safe.
 */
void fuse_service_destroy(struct fuse_service **sfp) FUSE_SERVICE_NOEXCEPT;

/**
 * Replace @p args with the command line the helper received.
 *
 * The result is `[subtype, args->argv[1..], helper arguments...]`: the
 * server's own arguments come first, then the user's (source, mountpoint,
 * `-o` options). The argument memfd is consumed. @p args should have been
 * initialised from main()'s argc/argv.
 *
 * @return 0; -EBADMSG for a malformed argument file (wrong magic, short,
 *         entries outside the file, over the size caps); -EBADF when the
 *         memfd was already consumed; -ENOMEM
 */
int fuse_service_append_args(struct fuse_service *sf, struct fuse_args *args) FUSE_SERVICE_NOEXCEPT;

/**
 * Build the effective command line, for setproctitle() or logs:
 * `"argv0 -t args[0] args[1] ..."`.
 *
 * @return a string to free() with free(), or NULL when there are no
 *         arguments or memory ran out
 */
char *fuse_service_cmdline(int argc, const char *const *argv,
			   struct fuse_args *args) FUSE_SERVICE_NOEXCEPT;

/**
 * Parse the generic options, like fuse_parse_cmdline().
 *
 * Differences: the mountpoint is kept exactly as given (the helper, not the
 * sandboxed server, resolves it, and it must match the helper's argument
 * verbatim); without `-o subtype=` or `-o fsname=` the subtype defaults to
 * the basename of `args->argv[0]`, which after fuse_service_append_args() is
 * the subtype the user asked for. Options that only the helper or mtab use
 * (`x-*`, `symfollow`, `nosymfollow`, `nodiratime`, `nostrictatime`) are
 * recorded for the mount and removed from @p args, since an older system
 * libfuse would reject them.
 *
 * @return 0 on success, -1 on a parse error (as fuse_parse_cmdline(); then
 *         `opts->mountpoint` is NULL)
 */
int fuse_service_parse_cmdline_opts(struct fuse_args *args,
				    struct fuse_cmdline_opts *opts) FUSE_SERVICE_NOEXCEPT;

/** fuse_service_request_file() flag: the helper prints nothing if the open fails. */
#define FUSE_SERVICE_REQUEST_FILE_QUIET (1U << 0)

/**
 * Ask the helper to open a file with the caller's privileges.
 *
 * The reply is collected with fuse_service_receive_file(). The helper only
 * opens what the user named on the command line.
 *
 * @param sf service context
 * @param path path as the user gave it
 * @param open_flags open(2) flags (O_CLOEXEC is always added)
 * @param create_mode mode for O_CREAT
 * @param request_flags FUSE_SERVICE_REQUEST_FILE_* flags
 * @return 0; -EINVAL for unknown request flags or an empty path;
 *         -ENAMETOOLONG; or the errno of the failed send
 */
int fuse_service_request_file(const struct fuse_service *sf, const char *path, int open_flags,
			      mode_t create_mode, unsigned int request_flags) FUSE_SERVICE_NOEXCEPT;

/**
 * Like fuse_service_request_file(), for a block device: the helper refuses
 * anything that is not one (`ENOTBLK`) and, when @p block_size is nonzero,
 * sets the device block size (BLKBSZSET).
 */
int fuse_service_request_blockdev(const struct fuse_service *sf, const char *path, int open_flags,
				  mode_t create_mode, unsigned int request_flags,
				  unsigned int block_size) FUSE_SERVICE_NOEXCEPT;

/**
 * Receive the answer to a file request.
 *
 * @param sf service context
 * @param path the path that was requested; the reply must name it
 * @param fdp receives the open fd, or the negative errno with which the
 *            helper refused the open (EBUSY is worth a retry)
 * @return 0 when a well-formed reply arrived (check @p fdp); a negative
 *         errno for a socket or protocol failure (-EBADMSG: wrong magic,
 *         wrong path, missing or extra fd, truncated control data, a
 *         refusal errno outside 1..4095; -EMSGSIZE: over 64 KiB;
 *         -ECONNRESET: the helper hung up)
 */
int fuse_service_receive_file(const struct fuse_service *sf, const char *path,
			      int *fdp) FUSE_SERVICE_NOEXCEPT;

/**
 * Declare that no more files will be requested: turns off `SO_PASSRIGHTS`
 * on the socket so the helper can never push another descriptor into the
 * server. Kernels before 6.16 lack the option; that is not an error.
 */
int fuse_service_finish_file_requests(const struct fuse_service *sf) FUSE_SERVICE_NOEXCEPT;

/**
 * Set the mountpoint type fuse_service_session_mount() asks for when its
 * @p expected_fmt is 0: S_IFDIR, S_IFREG, or 0 for either.
 */
void fuse_service_expect_mount_format(struct fuse_service *sf,
				      mode_t expected_fmt) FUSE_SERVICE_NOEXCEPT;

/**
 * Bind @p se to the /dev/fuse descriptor from the helper and have the
 * helper mount it on `opts->mountpoint`.
 *
 * The fs type, source, kernel options, mtab options and mount flags are
 * computed from the arguments seen by fuse_service_append_args() and
 * fuse_service_parse_cmdline_opts(), the same way libfuse computes them for
 * fuse_session_mount(). On success the session owns the device fd,
 * `opts->foreground` is set to 1 and the working directory is `/`.
 *
 * @param sf service context
 * @param se a session from fuse_session_new(), not yet mounted
 * @param expected_fmt S_IFDIR, S_IFREG, or 0 for the default set with
 *        fuse_service_expect_mount_format()
 * @param opts parsed options; `mountpoint` must be set
 * @return 0, or a negative errno: the helper's refusal (e.g. -EPERM,
 *         -ENOTDIR) or a protocol failure (-EBADMSG, also for a refusal
 *         outside 1..4095; -EMSGSIZE; -ECONNRESET when the helper hung up)
 */
int fuse_service_session_mount(struct fuse_service *sf, struct fuse_session *se,
			       mode_t expected_fmt,
			       struct fuse_cmdline_opts *opts) FUSE_SERVICE_NOEXCEPT;

/**
 * Tell the helper we are done and close the socket. Send it with 0 right
 * after a successful mount (mount(8) returns then), or with a nonzero code
 * when giving up. A second call does nothing and returns 0.
 */
int fuse_service_send_goodbye(struct fuse_service *sf, int exitcode) FUSE_SERVICE_NOEXCEPT;

/**
 * Turn a result into a process exit status (EXIT_SUCCESS for 0, else
 * EXIT_FAILURE). Under systemd it first waits about two seconds, so the
 * journal can still attribute the last log lines to the unit.
 */
int fuse_service_exit(int ret) FUSE_SERVICE_NOEXCEPT;

/**
 * Implementation of fuse_service_main(); call the macro instead.
 */
int fuse_service_main_real(struct fuse_service *sf, struct fuse_args *args,
			   const struct fuse_operations *op, size_t op_size,
			   void *user_data) FUSE_SERVICE_NOEXCEPT;

/**
 * The fuse_main() of services, for high-level (path based) filesystems:
 * parses the generic options, creates the filesystem, has the helper mount
 * it, says goodbye, and runs the event loop until unmount.
 *
 * @return 0 on success; as fuse_main(), nonzero on failure
 */
#define fuse_service_main(sf, args, op, user_data)                                                 \
	fuse_service_main_real((sf), (args), (op), sizeof(*(op)), (user_data))

#ifdef __cplusplus
}
#endif

#endif /* FUSE_USE_VERSION >= 3.19 */

#endif /* FUSE_SERVICE_H_ */
