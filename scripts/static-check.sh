#!/bin/bash
# Static checks of the series: sparse (make C=2) and the compiler's W=1
# warnings on every .c file the series changes, compared with the same
# files without the series (build/linux-baseline), so that only what the
# series adds counts.  Optionally (--cocci) coccicheck in report mode on the
# same files, compared the same way.
#
#   static-check.sh [--cocci] [--update]   run the checks, print what is new
#   static-check.sh --verify               only check that kernel/static-check.txt
#                                          was made from the series in patches/
#
# The checks compile each file once more in build/out/check-{patched,baseline}
# (their own output folders, the test kernels' configuration), so the test
# kernels' objects stay as they are.  Exit 1 when the series adds a warning.
# --update writes the result, with a hash of the series, to
# kernel/static-check.txt; make test runs --verify, which fails when the
# series changed after that file was written: a few minutes of compiling are
# too much for every make test, forgetting to re-run is not allowed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
result=$top/kernel/static-check.txt
cocci=0 update=0 verify=0
for a in "$@"; do
	case "$a" in
	--cocci) cocci=1 ;;
	--update) update=1 ;;
	--verify) verify=1 ;;
	*) echo "static-check: unknown argument $a" >&2; exit 2 ;;
	esac
done

series_hash() {
	ls "$top"/patches/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-cover-letter\.patch$' |
		xargs cat | sha256sum | cut -c1-16
}

if [ "$verify" = 1 ]; then
	want=$(series_hash)
	have=$(sed -n 's/^series: //p' "$result" 2>/dev/null || true)
	if [ "$have" != "$want" ]; then
		echo "static-check: FAIL kernel/static-check.txt is for series ${have:-none}," \
			"patches/ is $want: run 'make static-check' and commit its result" >&2
		exit 1
	fi
	new=$(sed -n 's/^new: //p' "$result")
	echo "static-check: ok   sparse and W=1 on the series' files: $new new warnings (kernel/static-check.txt)"
	cline=$(grep '^coccicheck: ' "$result" || true)
	if [ -z "$cline" ]; then
		echo "static-check: note coccicheck was not run for this series (make static-check STATIC_ARGS=--cocci)"
	else
		echo "static-check: ok   $cline"
	fi
	[ "$new" = 0 ] && [[ -z "$cline" || "$cline" == "coccicheck: 0 new"* ]]
	exit
fi

src=$BUILD/linux base=$BUILD/linux-baseline
for t in "$src" "$base"; do
	[ -f "$t/Makefile" ] || { echo "static-check: no tree at $t: run 'make tree'" >&2; exit 1; }
done
[ -f "$BUILD/out/patched/.config" ] && [ -f "$BUILD/out/baseline/.config" ] ||
	{ echo "static-check: build the kernels first (make kernel-patched kernel-baseline)" >&2; exit 1; }
command -v sparse > /dev/null || { echo "static-check: sparse missing: make deps" >&2; exit 1; }

mapfile -t files < <(git -C "$src" diff --name-only spm-base HEAD -- '*.c' | grep -v '^tools/')
export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
export KBUILD_BUILD_TIMESTAMP="2025-01-01" KBUILD_BUILD_USER=spm KBUILD_BUILD_HOST=spm

# check TREE FLAVOR OUTFILE: compile every file of $files that TREE has,
# with W=1 and sparse, into build/out/check-FLAVOR; warnings to OUTFILE.
check() {
	local tree=$1 flavor=$2 outf=$3 out=$BUILD/out/check-$2 f
	mkdir -p "$out"
	if ! cmp -s "$BUILD/out/$flavor/.config" "$out/.config"; then
		cp "$BUILD/out/$flavor/.config" "$out/.config"
		make -s -C "$tree" O="$out" ARCH=x86_64 LOCALVERSION= olddefconfig
	fi
	make -s -C "$tree" O="$out" ARCH=x86_64 LOCALVERSION= CC="ccache gcc" \
		-j"$(nproc)" prepare > /dev/null
	local objs=() skipped=()
	for f in "${files[@]}"; do
		[ -f "$tree/$f" ] || continue
		# A file the configuration does not build (mm/damon/ without
		# CONFIG_DAMON) cannot be compiled on its own: note it, as the
		# same line for both trees.
		if [ ! -f "$BUILD/out/$flavor/${f%.c}.o" ]; then
			skipped+=("$f")
			continue
		fi
		objs+=("${f%.c}.o")
		# Touch nothing in the tree: remove the object so that it is
		# compiled (and checked) again.
		rm -f "$out/${f%.c}.o"
	done
	# One make for all of them: single-object builds each walk the
	# prerequisites again. -k: a file that fails still lets the rest run.
	make -k -C "$tree" O="$out" ARCH=x86_64 LOCALVERSION= CC="ccache gcc" \
		-j"$(nproc)" W=1 C=2 "${objs[@]}" 2>&1 |
		grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' |
		sed -E "s|^$tree/||; s|^(\.\./)+||; s|^linux(-baseline)?/||" | sort > "$outf" || true
	for f in "${objs[@]}"; do
		[ -f "$out/$f" ] || echo "${f%.o}.c:0:0: warning: not built in this configuration" >> "$outf"
	done
	for f in "${skipped[@]}"; do
		echo "$f:0:0: warning: not built in this configuration" >> "$outf"
	done
}

# A warning's identity, without its line and column: "file: kind: text".
norm() { sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /' "$1" | sort; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check "$base" baseline "$tmp/base.txt"
check "$src" patched "$tmp/patched.txt"
# New: what the series' files show more often with the series than without.
new=$(comm -13 <(norm "$tmp/base.txt") <(norm "$tmp/patched.txt") || true)
# Accepted ones, each with its reason, in kernel/static-check-allow.txt.
allow=$top/kernel/static-check-allow.txt
accepted=$(grep -Fx -f <(sed -n 's/ # .*//p' "$allow" 2>/dev/null) <<< "$new" || true)
[ -z "$accepted" ] || new=$(grep -vFx -f <(printf '%s\n' "$accepted") <<< "$new" || true)
nnew=$(grep -c . <<< "$new" || true)
nacc=$(grep -c . <<< "$accepted" || true)

cnew=0 cocci_new=
if [ "$cocci" = 1 ]; then
	command -v spatch > /dev/null || { echo "static-check: spatch missing: make deps" >&2; exit 1; }
	# The two trees in parallel (one spatch each): about 40 s a file.
	cocci_tree() {
		local t=$1 tree=$base f
		[ "$t" = patched ] && tree=$src
		: > "$tmp/cocci-$t.txt"
		: > "$tmp/cocci-$t.files"
		for f in "${files[@]}"; do
			[ -f "$tree/$f" ] || continue
			# The kernel's way to run every semantic patch on one file.
			# A coccicheck that fails (a semantic patch it cannot run:
			# some need OCaml) stops the check: an empty report from a
			# run that never happened is no result.
			if ! make -s -C "$tree" O="$BUILD/out/check-$t" ARCH=x86_64 LOCALVERSION= \
				CC="ccache gcc" C=2 CHECK="$tree/scripts/coccicheck" MODE=report \
				"${f%.c}.o" > "$tmp/cocci-$t.log" 2>&1; then
				echo "static-check: coccicheck failed on $t $f:" >&2
				grep -v '^Running\|^/usr/bin/spatch' "$tmp/cocci-$t.log" | tail -5 >&2
				return 1
			fi
			grep -E '^[^ ]+:[0-9]+:[0-9]+' "$tmp/cocci-$t.log" |
				sed -E "s|^$tree/||; s|^(\.\./)+||; s|^linux(-baseline)?/||" >> "$tmp/cocci-$t.txt" || true
			echo "$f" >> "$tmp/cocci-$t.files"
		done
	}
	cocci_tree baseline & cb=$!
	cocci_tree patched & cp=$!
	wait "$cb" || exit 1
	wait "$cp" || exit 1
	cocci_new=$(comm -13 <(norm "$tmp/cocci-baseline.txt") <(norm "$tmp/cocci-patched.txt") || true)
	cnew=$(grep -c . <<< "$cocci_new" || true)
fi

report() {
	echo "# make static-check: sparse (C=2) and W=1 on each .c file the series"
	echo "# changes, against the same file without the series; made by"
	echo "# scripts/static-check.sh, checked by make test (scripts/static-check.sh --verify)."
	echo "series: $(series_hash)"
	echo "files: ${#files[@]}"
	echo "sparse and W=1 on the baseline files: $(grep -c . "$tmp/base.txt" || true) warnings"
	echo "sparse and W=1 on the patched files: $(grep -c . "$tmp/patched.txt" || true) warnings"
	# The counts of each tree tell a real run from an empty one.
	[ "$cocci" = 1 ] && echo "coccicheck: $cnew new reports" \
		"(files run: baseline $(grep -c . "$tmp/cocci-baseline.files" || true)," \
		"patched $(grep -c . "$tmp/cocci-patched.files" || true);" \
		"reports: baseline $(grep -c . "$tmp/cocci-baseline.txt" || true)," \
		"patched $(grep -c . "$tmp/cocci-patched.txt" || true))"
	echo "accepted (kernel/static-check-allow.txt): $nacc"
	[ "$nacc" = 0 ] || sed 's/^/  /' <<< "$accepted"
	echo "new: $nnew"
	[ "$nnew" = 0 ] || sed 's/^/  /' <<< "$new"
	[ "$cnew" = 0 ] || sed 's/^/  cocci: /' <<< "$cocci_new"
	echo "files checked:"
	printf '  %s\n' "${files[@]}"
}
report
[ "$update" = 1 ] && report > "$result" && echo "static-check: wrote $result"
[ "$nnew" = 0 ] && [ "$cnew" = 0 ]
