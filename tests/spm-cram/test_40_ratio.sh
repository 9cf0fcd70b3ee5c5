#!/bin/bash
# The compression ratio spm_cram reports is the data's own: pages of K
# random bytes and 4096 - K zeros compress with LZ4 to about K + 30 bytes
# (the workload prints the expected size; checked against liblz4), so
# K = 1365 gives about 2.9, K = 3072 about 1.3 and K = 4096 (random)
# exactly 1 (stored raw).
. /spm/lib/tap.sh
N=/sys/devices/system/node
C=/sys/kernel/spm_cram

cram_prepare() {
	[ -d $N/node3/spm ] || spm-setup-pmem --spm >/dev/null || return 1
	echo 0 > /proc/sys/kernel/numa_balancing
	echo true > /sys/kernel/mm/numa/demotion_enabled
}
cram_module() { rmmod spm_cram 2>/dev/null; modprobe spm_cram "$@"; }
run_load() { OUT=$(spm-cram-load "$@" 2>&1); RC=$?; }
v() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | tail -1; }
milli() { local r=${1/./}; echo $((10#${r:-0})); }
within5() { tap_between "$1" $(($2 * 95 / 100)) $(($2 * 105 / 100)) "$3"; }

tap_plan 12

cram_prepare && cram_module || { tap_fail "setup: node 3 and spm_cram"; tap_done; }

for k in 1365 3072 4096; do
	run_load -m 16 -k $k
	t=$(v demote.target)
	tap_between "k=$k: data demoted to node 3" $(($(v pages) * 90 / 100)) "$(v pages)" "$t"
	within5 "k=$k: ratio $(v demote.cram.ratio) vs expected $(v expected_ratio)" \
		"$(milli "$(v expected_ratio)")" "$(milli "$(v demote.cram.ratio)")"
	within5 "k=$k: physical_bytes = pages x $(v expected_page_bytes) (within 5%)" \
		$((t * $(v expected_page_bytes))) "$(v demote.cram.physical_bytes)"
	tap_is "k=$k: workload exits 0" 0 "$RC"
	[ "$RC" = 0 ] && [ "${t:-0}" -gt 0 ] || tap_diag "$OUT"
done

tap_done
