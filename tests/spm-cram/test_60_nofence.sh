#!/bin/bash
# Without the write fence (fence=0), the comparison case: writes to
# demoted pages happen in place on node 3, take no fault, and spm_cram
# cannot see them: its physical_bytes goes stale. A rescan recompresses
# the node and shows the real usage: every page rewritten with random
# data now costs 4096 bytes, the ratio collapses.
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 14

cram_prepare && cram_module fence=0 ||
	{ tap_fail "setup: node 3 and spm_cram fence=0"; tap_done; }
tap_is "fence=0: node 3 caps" "reclaim demotion" "$(cat $N/node3/spm/caps)"
tap_is "fence file" 0 "$(cat $C/fence)"

run_load -m 32 -k 2048 -w 50 -W random -R
b=$(v write0.on_target_before)
tap_is "workload exits 0" 0 "$RC"
tap_between "written pages that were on node 3" 1000 "$(v write0.pages)" "$b"
tap_is "they all stay on node 3" "$b" "$(v write0.still_on_target)"
tap_is "writes in place take no fault" 0 "$(v write0.minflt)"
tap_is "no fenced writes" 0 "$(v write0.cram.fenced_writes)"
tap_is "no promotions" 0 "$(v write0.cram.promotions)"
tap_is "physical_bytes is stale after the writes" "$(v demote.cram.physical_bytes)" \
	"$(v write0.cram.physical_bytes)"
tap_is "rescan accepted" ok "$(v rescan.rc)"
within5 "rescan: physical_bytes grew by the rewritten pages (within 5%)" \
	$((b * (4096 - $(v expected_page_bytes)))) \
	$(( $(v rescan.cram.physical_bytes) - $(v write0.cram.physical_bytes) ))
r0=$(milli "$(v demote.cram.ratio)")
r1=$(milli "$(v rescan.cram.ratio)")
tap_between "rescan: the ratio collapsed ($(v demote.cram.ratio) -> $(v rescan.cram.ratio))" \
	1000 $((r0 * 80 / 100)) "$r1"
tap_is "checksums" 0 "$(v final.checksum_bad)"
tap_is "rescan: 'x' refused (EINVAL)" "Invalid argument" "$(try_write $C/rescan x)"
[ "$RC" = 0 ] && [ "${b:-0}" -gt 0 ] || tap_diag "$OUT"

cram_module

tap_done
