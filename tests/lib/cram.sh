# Shell helpers for the spm-cram suite (guest side, /spm/lib/cram.sh).
#
#   . /spm/lib/tap.sh
#   . /spm/lib/cram.sh
#   cram_prepare && cram_module budget_mb=64
#   run_load -m 16 -k 2048; v demote.target

N=/sys/devices/system/node
C=/sys/kernel/spm_cram

# Node 3 online as an SPM node through dax; demotion on, NUMA balancing off
# (it would move pages and count hinting faults).
cram_prepare() {
	[ -d $N/node3/spm ] || spm-setup-pmem --spm >/dev/null || return 1
	echo 0 > /proc/sys/kernel/numa_balancing
	echo true > /sys/kernel/mm/numa/demotion_enabled
}
# cram_module [PARAM=VALUE]...: (re)load spm_cram
cram_module() { rmmod spm_cram 2>/dev/null; modprobe spm_cram "$@"; }
# run_load ARGS: run spm-cram-load; output in $OUT, status in $RC
run_load() { OUT=$(spm-cram-load "$@" 2>&1); RC=$?; }
# v KEY: the last value of KEY=... in $OUT (tap_missing's word if none)
v() {
	printf '%s\n' "$OUT" |
		awk -v k="$1=" 'index($0, k) == 1 { v = substr($0, length(k) + 1); f = 1 }
				END { if (f) print v; exit !f }' ||
		tap_missing "spm-cram-load:$1"
}
# milli 2.919 -> 2919; anything else (a missing value) is passed on as it is
milli() {
	if [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		local r=${1/./}
		echo $((10#$r))
	else
		echo "${1:-$(tap_missing milli:empty)}"
	fi
}
# within5 DESC EXPECTED ACTUAL: ACTUAL within 5% of EXPECTED
within5() {
	case $2 in
	'' | *[!0-9-]*) tap_fail "$1" "expected '$2': not a number" ;;
	*) tap_between "$1" $(($2 * 95 / 100)) $(($2 * 105 / 100)) "$3" ;;
	esac
}
# load_paused FILE ARGS: start "spm-cram-load -P ARGS" in the background
# (output in FILE, pid in $pid) and wait until it has demoted and paused;
# its output so far is in $OUT. kill -USR1 $pid lets it go on.
load_paused() {
	local f=$1 i
	shift
	spm-cram-load -P "$@" > "$f" 2>&1 &
	pid=$!
	for i in $(seq 600); do
		grep -q '^paused=' "$f" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.5
	done
	OUT=$(cat "$f")
}
# zram swap on and off (tools/guest/spm-setup-swap)
swap_on() { spm-setup-swap >/dev/null; }
swap_off() { spm-setup-swap --off; }
# cs NAME: /sys/kernel/spm_cram/NAME (tap_missing's word if it is missing)
cs() { cat "$C/$1" 2>/dev/null || tap_missing "spm_cram:$1"; }
# cram_wait_zero NAME [SECONDS]: wait up to SECONDS (default 5) for
# /sys/kernel/spm_cram/NAME to read 0; prints its last value
cram_wait_zero() {
	local i val
	for i in $(seq $((${2:-5} * 10))); do
		val=$(cs "$1")
		[ "$val" = 0 ] && break
		sleep 0.1
	done
	echo "$val"
}
# node3_shrink: offline every memory block of node 3 but the first, so that
# the node fills up long before a large budget; node3_restore onlines every
# offline block of node 3 again (both may run in subshells: no state kept).
# memory[0-9]*: nodeN/memory_failure/ (CONFIG_MEMORY_FAILURE) is no block.
node3_shrink() {
	local b
	for b in $(ls -d $N/node3/memory[0-9]* | sort -V | tail -n +2); do
		echo offline > "$b/state" || return 1
	done
}
node3_restore() {
	local b
	for b in $N/node3/memory[0-9]*; do
		[ "$(cat "$b/state")" = offline ] || continue
		echo online_movable > "$b/state" || return 1
	done
}
