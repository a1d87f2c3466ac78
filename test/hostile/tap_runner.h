/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs hostile cases, each in its own process (this program re-executed for
 * one case), a few at a time, and prints one TAP line per case, by name, so
 * that one meson test reports every case. A failed case's output follows
 * its line as TAP comments.
 */
#pragma once

#include <string>
#include <vector>

namespace fsvc::hostile
{

struct TapRun {
	std::string self;                   /* this program */
	std::vector<std::string> case_args; /* before the case name: --helper ... */
	std::vector<std::string> names;     /* the cases, in order */
	unsigned jobs = 2;                  /* cases at a time */
	int case_timeout_s = 300;           /* a case still running is killed */
};

/* 0 when every case passed or was skipped, 1 otherwise. */
int run_tap(const TapRun &run);

} // namespace fsvc::hostile
