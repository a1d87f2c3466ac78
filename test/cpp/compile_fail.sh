#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Misuse of the C++ API must not compile. Each snippets/fail_*.cpp does one
# wrong thing on the line marked "// error-here" and names, on its first
# line ("// expect: REGEX"), what the compiler must say about that line:
# the snippet passes only if compiling it with -Werror fails AND a
# diagnostic for that very line matches REGEX (so a typo or a missing
# include cannot make it pass). snippets/ok_*.cpp are controls that must
# compile with the same flags, so the test cannot pass vacuously.
#
# usage: compile_fail.sh SNIPPET_DIR CXX [FLAGS...]
# Exit: 0 pass, 1 fail.
set -uo pipefail
dir=${1:?usage: compile_fail.sh SNIPPET_DIR CXX [FLAGS...]}
shift
cxx=("$@")
flags=(-std=c++20 -fno-exceptions -Wall -Wextra -Wpedantic -Werror -fsyntax-only)
# Plain ASCII diagnostics, whatever the caller's locale.
export LC_ALL=C
log=$(mktemp /tmp/fsvc-compile-fail.XXXXXX)
trap 'rm -f "$log"' EXIT
failures=0 controls=0 misuses=0

for src in "$dir"/ok_*.cpp; do
	controls=$((controls + 1))
	if "${cxx[@]}" "${flags[@]}" "$src" >"$log" 2>&1; then
		echo "ok   control $(basename "$src") compiles"
	else
		echo "FAIL control $(basename "$src") does not compile:"
		head -20 "$log"
		failures=$((failures + 1))
	fi
done

for src in "$dir"/fail_*.cpp; do
	misuses=$((misuses + 1))
	name=$(basename "$src")
	expect=$(sed -n '1s|^// expect: ||p' "$src")
	line=$(grep -n '// error-here' "$src" | cut -d: -f1)
	if [ -z "$expect" ] || [ -z "$line" ]; then
		echo "FAIL $name: no '// expect:' first line or no '// error-here' marker"
		failures=$((failures + 1))
		continue
	fi
	if "${cxx[@]}" "${flags[@]}" "$src" >"$log" 2>&1; then
		echo "FAIL $name compiles, but must not"
		failures=$((failures + 1))
	elif said=$(grep -E "^[^ ]*$name:$line:[0-9]+: (error|warning): " "$log" |
		sed -E 's/^[^ ]+: (error|warning): //' | grep -E -m1 -- "$expect"); then
		# Only the message is matched: the file name must not count.
		echo "ok   $name: ${said:0:140}"
	else
		echo "FAIL $name fails to compile, but not on line $line for /$expect/:"
		head -20 "$log"
		failures=$((failures + 1))
	fi
done

if [ "$controls" -eq 0 ] || [ "$misuses" -eq 0 ]; then
	echo "FAIL no snippets found in $dir"
	exit 1
fi
echo "$misuses misuse(s) rejected, $controls control(s) compiled, $failures failure(s)"
[ "$failures" -eq 0 ]
