/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuservicemount3: the privileged half of a FUSE service mount. Connects to
 * the socket-activated server for the requested subtype, hands it the
 * command line and a /dev/fuse descriptor, opens what it asks for with the
 * caller's rights, and mounts it. See fuservicemount3(8).
 */
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "util/conversation.h"
#include "util/fuse_conf.h"
#include "util/hygiene.h"
#include "util/messages.h"
#include "util/options.h"
#include "util/paths.h"
#include "util/privileges.h"
#include "util/service_socket.h"

using namespace fsvc;
using namespace fsvc::helper;

#if defined(__SANITIZE_ADDRESS__)
#define FSVC_LEAK_CHECK_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FSVC_LEAK_CHECK_AT_EXIT 1
#endif
#endif

#ifdef FSVC_LEAK_CHECK_AT_EXIT
/*
 * Sanitizer builds only: LeakSanitizer's exit check ptraces this
 * (non-dumpable, setuid) process, which needs CAP_SYS_PTRACE, so the ids
 * are made root again just before it runs (atexit handlers run in reverse
 * order: this one before the sanitizer's). Only exit-time cleanup follows.
 */
namespace
{
void root_again_for_leak_check()
{
	/* Best effort: if it fails, the leak check reports that itself. */
	if (setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) == 0 &&
	    setresgid(static_cast<gid_t>(-1), 0, static_cast<gid_t>(-1)) == 0)
		return;
}
} // namespace
#endif

int main(int argc, char *argv[])
{
	/* Before anything can print or open: fds 0-2 must be ours to use. */
	if (!secure_standard_fds())
		return EXIT_FAILURE;
	if (int r = sanitise_process(); r < 0) {
		say("cannot sanitise the process: %s", errstr(r));
		return EXIT_FAILURE;
	}
	const Caller caller = Caller::current();
	if (!installation_is_sane(caller))
		return EXIT_FAILURE;

	auto opts = parse_options(argc, argv, caller);
	if (!opts)
		return EXIT_FAILURE;

	switch (opts->mode) {
	case Mode::Help:
		print_usage(false);
		return EXIT_SUCCESS;
	case Mode::Version:
		std::printf("%s version %s\n", kProgramName, FSVC_VERSION);
		return EXIT_SUCCESS;
	case Mode::Check:
		return service_available(caller, opts->subtype) ? EXIT_SUCCESS : EXIT_FAILURE;
	case Mode::Mount:
		break;
	}

	/* Root's view ends here: fuse.conf is root's, the rest is done as the caller. */
	const FuseConf conf = load_fuse_conf(kFuseConfPath);
	become_caller(caller);
#ifdef FSVC_LEAK_CHECK_AT_EXIT
	if (caller.elevated())
		std::atexit(root_again_for_leak_check);
#endif
	auto sock = connect_service(caller, opts->subtype, opts->timeout_ms);
	if (!sock)
		return EXIT_FAILURE;
	Conversation conv(caller, conf, *opts, std::move(*sock));
	return conv.run() == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
