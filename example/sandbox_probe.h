/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A debugging aid for the unit files (-o probe_sandbox): from inside the
 * running server, try what a contained server must NOT be able to do and log
 * the outcome, one line each:
 *
 *     <prog>: sandbox-probe open /dev/fuse: refused (No such file or directory)
 *     <prog>: sandbox-probe open /srv/disk.img: OPENED -- not contained!
 *
 * The real-systemd test reads these lines from the journal.
 */
#ifndef SANDBOX_PROBE_H_
#define SANDBOX_PROBE_H_

/*
 * Try to open /dev/fuse read-write, @host_path (if not NULL) read-only, and
 * to create an AF_INET socket. Nothing that succeeds is kept.
 */
void sandbox_probe(const char *prog, const char *host_path);

#endif /* SANDBOX_PROBE_H_ */
