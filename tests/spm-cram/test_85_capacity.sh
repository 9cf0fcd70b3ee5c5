#!/bin/bash
# Capacity at run time: budget_bytes is writable (the device's physical
# capacity changed). Shrunk under load, the watermarks follow, demotion
# is throttled at the new high watermark and the work item reclaims node
# 3 (to zram swap) until physical usage is under the new low watermark;
# the data stays intact. Bad values are refused.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 11

cram_prepare && swap_off && cram_module budget_mb=64 ||
	{ tap_fail "setup: node 3 and spm_cram budget_mb=64"; tap_done; }
tap_is "budget_bytes 0 refused (EINVAL)" "Invalid argument" "$(try_write $C/budget_bytes 0)"
tap_is "budget_bytes junk refused (EINVAL)" "Invalid argument" "$(try_write $C/budget_bytes 12x)"

out=/tmp/cram-capacity.out
load_paused $out -m 32 -k 2048
phys=$(cs physical_bytes)
tap_between "paused workload holds > 8 MiB on node 3" 8388608 67108864 "$phys"
swap_on
tap_is "shrink the capacity to 8 MiB" ok "$(try_write $C/budget_bytes 8388608)"
tap_is "watermarks follow (budget high low)" "8388608 7549747 6291456" \
	"$(cs budget_bytes) $(cs high_watermark_bytes) $(cs low_watermark_bytes)"
for i in $(seq 300); do
	[ "$(cs physical_bytes)" -le 6291456 ] && break
	sleep 0.1
done
tap_between "reclaimed to the new low watermark" 1 6291456 "$(cs physical_bytes)"
# A second workload under the new capacity: throttled at its high mark.
cs pool_limit_hit > /tmp/cram-capacity.hit
run_load -m 16 -k 2048 -g /sys/fs/cgroup/spm-cram-capacity-b
tap_is "B: workload exits 0" 0 "$RC"
tap_between "B: demotion throttled" 1 1000000000 \
	$(($(cs pool_limit_hit) - $(cat /tmp/cram-capacity.hit)))
tap_between "physical_bytes <= new high watermark" 0 7549747 "$(cs physical_bytes)"
kill -USR1 $pid; wait $pid; RC=$?; OUT=$(cat $out)
tap_is "A: checksums after reclaim" 0 "$(v resume.checksum_bad)"
tap_is "grow back to 64 MiB" ok "$(try_write $C/budget_bytes 67108864)"
swap_off
cram_module
rmdir /sys/fs/cgroup/spm-cram-capacity-b 2>/dev/null

tap_done
