#!/bin/bash
# The budget: with a 1 MiB device, demotion stops at the high watermark
# (may_demote() says no, counted as throttled) and the rest of the data
# stays on node 0, intact. Under a write-heavy workload (rounds of
# rewriting a quarter of the pages with incompressible data, then pushing
# everything down again) physical usage never passes the high watermark.
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 19

cram_prepare && cram_module budget_mb=1 ||
	{ tap_fail "setup: node 3 and spm_cram budget_mb=1"; tap_done; }
high=$(cat $C/high_watermark_bytes)
tap_is "1 MiB budget: high watermark" 943718 "$high"

run_load -m 16 -k 2048
pages=$(v pages)
t=$(v demote.target)
exp=$(v expected_page_bytes)
tap_is "workload exits 0" 0 "$RC"
tap_between "throttled demotions" 1 1000000000 "$(v demote.cram.throttled)"
tap_between "physical_bytes <= high watermark" 1 "$high" "$(v demote.cram.physical_bytes)"
tap_between "peak physical_bytes <= high watermark" 1 "$high" "$(v demote.cram.peak_physical_bytes)"
# At ~2 KiB a page, about 450 pages fit under 0.9 MiB.
tap_between "pages on node 3 fit the budget at their LZ4 size" \
	$((high / 4096)) $((high * 101 / 100 / exp)) "$t"
tap_is "the rest stays on node 0" $((pages - t)) "$(v demote.node0)"
tap_is "nothing on node 2" 0 "$(v demote.node2)"
tap_is "checksums" 0 "$(v read.checksum_bad)"
tap_is "memory.reclaim could not push it all (EAGAIN)" \
	"Resource temporarily unavailable" "$(v demote.pressure_rc)"
[ "$RC" = 0 ] && [ "${t:-0}" -gt 0 ] || tap_diag "$OUT"

# Write-heavy: 16 MiB budget, 64 MiB of data, 4 rounds.
cram_module budget_mb=16 || { tap_fail "spm_cram budget_mb=16"; tap_done; }
high=$(cat $C/high_watermark_bytes)
run_load -m 64 -k 2048 -w 25 -W random -i 4
tap_is "write-heavy: workload exits 0" 0 "$RC"
tap_is "write-heavy: checksums" 0 "$(v final.checksum_bad)"
for r in 0 3; do
	tap_between "round $r: writes hit demoted pages" 1 100000 "$(v write$r.on_target_before)"
	tap_between "round $r: pressure demotes again" 1 100000 "$(v redemote$r.target)"
done
tap_between "write-heavy: throttled demotions" 1 1000000000 "$(v final.cram.throttled)"
tap_between "write-heavy: peak physical_bytes <= high watermark" 1 "$high" \
	"$(v final.cram.peak_physical_bytes)"
tap_between "write-heavy: promotions" 1 1000000 "$(v final.cram.promotions)"
[ "$RC" = 0 ] || tap_diag "$OUT"

cram_module

tap_done
