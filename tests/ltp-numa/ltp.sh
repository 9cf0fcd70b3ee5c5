#!/bin/bash
# The LTP NUMA and mempolicy tests (36 prebuilt static programs of LTP's
# mbind, set_mempolicy, get_mempolicy, move_pages, migrate_pages, cpuset,
# vma, ksm and oom directories) on a kernel booted with an SPM node that
# does not permit user placement: every test that passes on the stock
# kernel must pass here too.
#
# The programs are not in the repository or the initramfs: ./prepare
# unpacks ../shared/ltp/ltp-numa-run.tar.xz into build/ltp-numa/run and
# tests/run adds that folder to the VM (/add/run, boot.conf ADD=). LTP's
# own runner, run/runltp-numa.sh, sets up the guest (TMPDIR, nobody, a
# zram LTP_DEV, KCONFIG_PATH) and runs them one after another.
#
# One TAP result per LTP program, named after it: exit status 0 passes,
# 32 (only TCONF) is a skip, anything else fails and its TFAIL, TBROK and
# TWARN lines follow as comments. Each program's full output goes to the
# console, so to the suite's console log (build/logs/test-ltp-numa-*.log),
# every line prefixed "ltp| ".
#
# LTP_NUMA_TESTS="mbind01 move_pages12" runs a subset; LTP_NUMA_TIMEOUT
# bounds each program (seconds, default 600); LTP_NUMA_RUN is the
# unpacked run/ folder (default /add/run). On a slow kernel (tests/run
# passes SPM_TIMEOUT_SCALE, 4 on the debug kernel) both that bound and
# LTP's own time-outs (LTP_TIMEOUT_MUL, 10 by the runner's default) are
# multiplied by it: on the debug kernel ksm02 and the oom tests need more
# than LTP's 10 minutes. The KSM tests' working set is divided by the same
# factor (ksm02/ksm04 -s, 128 MB per process by default; LTP_NUMA_KSM_MB
# overrides): at 128 MB ksmd needed over 20 minutes for ksm02 alone under
# KASAN and DEBUG_PAGEALLOC.

run=${LTP_NUMA_RUN:-/add/run}
scale=${SPM_TIMEOUT_SCALE:-1}
case "$scale" in ''|*[!0-9]*) scale=1 ;; esac
per=$(( ${LTP_NUMA_TIMEOUT:-600} * scale ))
export LTP_TIMEOUT_MUL=${LTP_TIMEOUT_MUL:-$((10 * scale))}
ksm_mb=${LTP_NUMA_KSM_MB:-$((128 / scale))}
case "$ksm_mb" in ''|*[!0-9]*|0) ksm_mb=128 ;; esac
out=/tmp/ltp-numa.out
con=/dev/console
now() { cut -d' ' -f1 /proc/uptime; }
{ : >> "$con"; } 2>/dev/null || con=/dev/null

if [ -n "${LTP_NUMA_TESTS:-}" ]; then
	read -r -a tests <<< "$LTP_NUMA_TESTS"
elif [ -f "$run/tests.txt" ]; then
	mapfile -t tests < <(grep -v '^#' "$run/tests.txt" | grep .)
else
	tests=()
fi

# A smaller KSM working set: the same runner in a shadow folder whose bin/
# links every program, with ksm02 and ksm04 wrapped to pass -s.
if [ "$ksm_mb" != 128 ] && [ -x "$run/runltp-numa.sh" ]; then
	shadow=/tmp/ltp-numa-run
	rm -rf "$shadow"
	mkdir -p "$shadow/bin"
	for f in "$run"/*; do
		[ "${f##*/}" = bin ] || ln -s "$f" "$shadow/${f##*/}"
	done
	rm -f "$shadow/runltp-numa.sh"
	cp "$run/runltp-numa.sh" "$shadow/runltp-numa.sh"
	for f in "$run"/bin/*; do
		ln -s "$f" "$shadow/bin/${f##*/}"
	done
	for t in ksm02 ksm04; do
		[ -x "$run/bin/$t" ] || continue
		rm -f "$shadow/bin/$t"
		printf '#!/bin/sh\nexec %s -s %s "$@"\n' "$run/bin/$t" "$ksm_mb" > "$shadow/bin/$t"
		chmod +x "$shadow/bin/$t"
	done
	run=$shadow
fi

echo "TAP version 13"
if [ ! -x "$run/runltp-numa.sh" ] || [ ${#tests[@]} -eq 0 ]; then
	echo "1..1"
	echo "not ok 1 ltp-numa"
	echo "# $run/runltp-numa.sh or $run/tests.txt missing: tests/run adds" \
		"build/ltp-numa/run, which tests/ltp-numa/prepare unpacks"
	exit 1
fi
echo "1..${#tests[@]}"

N=/sys/devices/system/node
echo "# LTP NUMA/mempolicy tests, kernel $(uname -r), $(cat /proc/cmdline)"
echo "# online $(cat $N/online), has_memory $(cat $N/has_memory)," \
	"has_spm_memory $(cat $N/has_spm_memory 2>/dev/null || echo -)"
for d in $N/node*/spm; do
	[ -d "$d" ] || continue
	n=${d%/spm}
	echo "# ${n##*/}/spm: owner $(cat "$d/owner" 2>/dev/null)," \
		"allow_user $(cat "$d/allow_user" 2>/dev/null), caps $(cat "$d/caps" 2>/dev/null)"
done
echo "# $(grep Mems_allowed_list /proc/self/status)"
echo "# full LTP output: lines 'ltp| ' of the console log"
[ "$ksm_mb" = 128 ] || echo "# ksm02, ksm04: -s $ksm_mb (MB per process; time-out scale $scale)"

: > "$out"
declare -A index=()
for i in "${!tests[@]}"; do
	index[${tests[$i]}]=$((i + 1))
done
declare -A reported=()
failed=0
summary=
slow=
t0=$(now)
begin=$t0
started=0

# Distinct lines of stdin in order, repeats counted, at most 20.
distinct() {
	awk '!($0 in c) { o[++n] = $0 } { c[$0]++ }
	END {
		for (i = 1; i <= n && i <= 20; i++)
			print o[i] (c[o[i]] > 1 ? " (" c[o[i]] " times)" : "")
		if (n > 20) print "... and " n - 20 " more distinct lines"
	}'
}

report() {
	local t=$1 rc=$2 n=${index[$1]:-0} log=/tmp/ltp-out/$1.log why lines secs
	[ "$n" -gt 0 ] && [ -z "${reported[$t]:-}" ] || return 0
	reported[$t]=1
	secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", b - a + 0.5 }')
	[ "$secs" -ge 5 ] && slow="$slow $t ${secs}s,"
	[ -f "$log" ] && sed "s/^/ltp| /" "$log" >> "$con"
	case "$rc" in
	0)	echo "ok $n $t" ;;
	32)	why=$(grep -m1 -o 'TCONF: .*' "$log" 2>/dev/null | sed 's/^TCONF: *//')
		echo "ok $n $t # SKIP $t: ${why:-LTP TCONF}" ;;
	*)	failed=$((failed + 1))
		echo "not ok $n $t"
		why=
		if [ "$rc" -ge 128 ]; then
			why=" killed by signal $((rc - 128))"
		elif [ "$rc" = 124 ]; then
			why=" timeout"
		else
			[ $((rc & 1)) = 0 ] || why="$why TFAIL"
			[ $((rc & 2)) = 0 ] || why="$why TBROK"
			[ $((rc & 4)) = 0 ] || why="$why TWARN"
			[ $((rc & 32)) = 0 ] || why="$why TCONF"
		fi
		[ "$secs" -ge "$per" ] && why="$why; stopped by the ${per}s limit per program"
		echo "# $t: exit status $rc (${why# }) after ${secs}s${summary:+; LTP $summary}"
		lines=$(grep -E 'TFAIL|TBROK|TWARN' "$log" 2>/dev/null | distinct)
		if [ -z "$lines" ]; then
			echo "# $t: no TFAIL/TBROK/TWARN line; the last lines of its output:"
			lines=$(tail -15 "$log" 2>/dev/null)
		fi
		[ -n "$lines" ] && printf '%s\n' "$lines" | sed "s/^/# $t: /" ;;
	esac
	summary=
}

while IFS= read -r line; do
	case "$line" in
	"RESULT "*)
		set -- $line
		report "$2" "$3" ;;
	"  Summary:"*)
		# The first summary: killed tests print more from their children.
		summary=${line#  Summary: }
		summary="summary: ${summary%% Summary:*}"
		summary=${summary% } ;;
	"=== START "*)
		t0=$(now)
		if [ "$started" = 0 ]; then
			# The header and this line are in $out.
			started=1
			sed "s/^/ltp| /" "$out" >> "$con" 2>/dev/null
		else
			echo "ltp| $line" >> "$con"
		fi ;;
	*)
		# Before the first test: the header, which $out has too.
		[ "$started" = 0 ] || echo "ltp| $line" >> "$con" ;;
	esac
done < <(NO_TTYS1=1 OUT=$out "$run/runltp-numa.sh" "$(uname -r)" "$per" "${tests[@]}" 2>&1)

[ "$started" = 1 ] || sed "s/^/ltp| /" "$out" >> "$con" 2>/dev/null
for t in "${tests[@]}"; do
	[ -n "${reported[$t]:-}" ] && continue
	failed=$((failed + 1))
	echo "not ok ${index[$t]} $t"
	echo "# $t: the LTP runner reported no result for it"
done
echo "# $((${#tests[@]} - failed)) of ${#tests[@]} passed or skipped in" \
	"$(awk -v a="$begin" -v b="$(now)" 'BEGIN { printf "%d", b - a + 0.5 }')s;" \
	"5s or more:${slow:- none,}" | sed "s/,$//"
[ "$failed" = 0 ]
