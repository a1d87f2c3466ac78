#!/bin/bash
# Runs ShellCheck on every shell script of the repository: the *.sh files and
# any other file whose first line names sh or bash. Sourced files follow
# their sourcing script (-x, paths relative to the script). Fails on any
# warning or error; style notes and infos are not judged.
# Usage: scripts/check-shell.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t candidates < <(git ls-files --cached --others --exclude-standard)
else
	mapfile -t candidates < <(find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||')
fi
scripts=()
for f in "${candidates[@]}"; do
	[ -f "$f" ] || continue
	if [[ "$f" == *.sh ]] || head -n1 "$f" | grep -qE '^#!(/usr)?/bin/(env )?(ba|da)?sh\b'; then
		scripts+=("$f")
	fi
done
if [ ${#scripts[@]} -eq 0 ]; then
	echo "check-shell: no shell scripts found" >&2
	exit 1
fi
shellcheck --external-sources --source-path=SCRIPTDIR --severity=warning "${scripts[@]}"
echo "check-shell: ${#scripts[@]} scripts clean"
