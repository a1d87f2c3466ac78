#!/bin/bash
# Compile-only portability checks, run by meson (suite "portability") with
# the build's C++ compiler in $CXX.
#
#   compile_check.sh so_passrights CHECK.cpp -I...   SO_PASSRIGHTS per architecture
#   compile_check.sh m32 yes|no -I... -- SOURCE...   sources compile for a 32-bit target
#
# Prints one line per failure; exit 0 = pass, 1 = fail, 77 = skipped.
set -uo pipefail

read -ra cxx <<<"${CXX:-c++}"
base=(-std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -D_GNU_SOURCE)
failed=0

fail() {
	echo "compile_check: $*" >&2
	failed=1
}

# compiles EXPECT ARGS...: compiling with ARGS succeeds (EXPECT=ok) or fails (bad).
compiles() {
	local expect=$1
	shift
	local out
	if out=$("${cxx[@]}" "${base[@]}" "$@" 2>&1); then
		[ "$expect" = ok ] || fail "compiled, but should not have: $*"
	else
		[ "$expect" = bad ] || fail "does not compile: $*"$'\n'"$out"
	fi
}

case "${1:-}" in
so_passrights)
	src=$2
	shift 2
	# The table: parisc and sparc differ from the generic number.
	compiles ok "$@" -DFSVC_EXPECTED_SO_PASSRIGHTS=83 "$src"
	compiles ok "$@" -D__hppa__ -DFSVC_EXPECTED_SO_PASSRIGHTS=0x4051 "$src"
	compiles ok "$@" -D__sparc__ -DFSVC_EXPECTED_SO_PASSRIGHTS=0x5c "$src"
	# A system header that has it: its value is used, and checked.
	compiles ok "$@" -DSO_PASSRIGHTS=83 -DFSVC_EXPECTED_SO_PASSRIGHTS=83 "$src"
	compiles bad "$@" -D__sparc__ -DSO_PASSRIGHTS=83 -DFSVC_EXPECTED_SO_PASSRIGHTS=83 "$src"
	;;
m32)
	if [ "$2" != yes ]; then
		echo "compile_check: the compiler cannot target -m32 (install g++-multilib); skipped"
		exit 77
	fi
	shift 2
	flags=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	for src in "$@"; do
		compiles ok -m32 "${flags[@]}" "$src"
	done
	;;
*)
	echo "usage: compile_check.sh so_passrights|m32 ..." >&2
	exit 2
	;;
esac
exit "$failed"
