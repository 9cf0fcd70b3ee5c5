#!/bin/bash
# Run the kernel's checkpatch.pl --strict on every patch of the series
# (patches/[0-9]*.patch except the cover letter). Passes with 0 errors and
# 0 warnings in every patch; CHECK notes are shown but do not fail.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
tree=$BUILD/linux
[ -x "$tree/scripts/checkpatch.pl" ] || { echo "checkpatch: $tree missing: run 'make tree'" >&2; exit 1; }

mapfile -t series < <(ls "$top"/patches/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null |
	grep -v '/0000-cover-letter\.patch$' || true)
if [ ${#series[@]} -eq 0 ]; then
	echo "checkpatch: no patches in patches/"
	exit 0
fi

# One checkpatch per patch, as many at a time as there are CPUs.
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
printf '%s\n' "${series[@]}" | (cd "$tree" && xargs -P "$(nproc)" -I{} sh -c \
	'./scripts/checkpatch.pl --strict --color=never --show-types "$1" > "$2/$(basename "$1").out" 2>&1; true' \
	sh {} "$results")

bad=0
for p in "${series[@]}"; do
	out=$(cat "$results/$(basename "$p").out")
	total=$(sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' <<< "$out" | tail -1)
	read -r e w c <<< "${total:-? ? ?}"
	if [ "$e" = 0 ] && [ "$w" = 0 ]; then
		echo "checkpatch: ok   $(basename "$p") (${c} checks)"
	else
		echo "checkpatch: FAIL $(basename "$p"): $e errors, $w warnings, $c checks"
		bad=1
	fi
	if [ "$e$w$c" != 000 ]; then
		grep -v '^total:\|^NOTE:\|^$' <<< "$out" | sed 's/^/    /'
	fi
done
exit $bad
