#!/bin/bash
# Demotion into the compressed node: 64 MiB bound to node 0 is pushed down
# by memory.reclaim of the workload's cgroup and lands on node 3 only;
# its checksums hold, reading it back takes no fault (the pages are
# mapped where they are), the service accounts every page at its LZ4
# size, and gives it all back when the workload exits. Then the same with
# real pressure: a hog fills node 0 and kswapd/direct reclaim demote.
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 23

cram_prepare && cram_module || { tap_fail "setup: node 3 and spm_cram"; tap_done; }

run_load -m 64 -k 2048
pages=$(v pages)
t=$(v demote.target)
tap_is "workload exits 0 (checksums intact)" 0 "$RC"
tap_between "most of the data is demoted to node 3" $((pages * 90 / 100)) "$pages" "$t"
tap_is "nothing on node 2 (the other SPM node)" 0 "$(v demote.node2)"
tap_is "nothing on node 1" 0 "$(v demote.node1)"
tap_is "the rest stays on node 0" $((pages - t)) "$(v demote.node0)"
tap_is "checksums after demotion" 0 "$(v read.checksum_bad)"
tap_is "reading demoted pages takes no minor fault" 0 "$(v read.minflt)"
tap_is "reading demoted pages takes no major fault" 0 "$(v read.majflt)"
tap_is "reading leaves the pages on node 3" "$t" "$(v read.target)"
tap_between "demotions counted (pages)" "$t" $((t + 1024)) "$(v demote.cram.demotions)"
# The workload's own bookkeeping (page tables aside) can be demoted too.
tap_between "logical_bytes = pages on node 3 (+ up to 2 MiB of the workload's own)" \
	$((t * 4096)) $((t * 4096 + (2 << 20))) "$(v demote.cram.logical_bytes)"
exp=$(v expected_page_bytes)
within5 "physical_bytes = pages x LZ4 size of a page (within 5%)" $((t * exp)) \
	"$(v demote.cram.physical_bytes)"
within5 "ratio = the data's LZ4 ratio (within 5%)" "$(milli "$(v expected_ratio)")" \
	"$(milli "$(v demote.cram.ratio)")"
tap_is "nothing throttled under a 128 MiB budget" 0 "$(v demote.cram.throttled)"
[ "$RC" = 0 ] && [ "$(v demote.cram.demotions)" -gt 0 ] 2>/dev/null || tap_diag "$OUT"

tap_is "workload gone: logical_bytes back to 0" 0 "$(cat $C/logical_bytes)"
tap_is "workload gone: physical_bytes back to 0" 0 "$(cat $C/physical_bytes)"
tap_between "workload gone: node 3 AnonPages (kB)" 0 1024 "$(node_meminfo 3 AnonPages)"

# Real pressure: a hog bound to node 0 (its free memory + 96 MiB).
tap_is "reset zeroes the event counters" "0 0 0 0" \
	"$(echo 1 > $C/reset && cat $C/demotions $C/promotions $C/fenced_writes $C/throttled | tr '\n' ' ' | sed 's/ $//')"
# Which folios reclaim demotes is the LRU's choice: the classic LRU takes
# the workload's older pages, MGLRU (on, as in Debian) took the hog's
# (2026-11-30: 24742 demotions, none of the workload's 8192 pages).  So
# the check is that reclaim demoted into node 3 at all, whoever's pages.
run_load -m 32 -p hog -H 96
t=$(v demote.target)
tap_is "hog: workload exits 0" 0 "$RC"
tap_diag "hog: $t of the workload's pages demoted, $(v demote.cram.demotions) demotions in all"
tap_between "hog: kswapd/direct reclaim demote data to node 3" 1 999999999 "$(v demote.cram.demotions)"
tap_is "hog: nothing on node 2" 0 "$(v demote.node2)"
tap_is "hog: checksums after demotion" 0 "$(v read.checksum_bad)"
tap_is "hog: reading takes no fault" 0 "$(v read.minflt)"
[ "$RC" = 0 ] && [ "$(v demote.cram.demotions)" -gt 0 ] 2>/dev/null || tap_diag "$OUT"

tap_done
