#!/bin/bash
# Reservations: may_demote() reserves a folio's worst case (PAGE_SIZE a
# page) until it arrives. A demotion that may_demote() approved but whose
# migration then fails must give its reservation back: here node 3 is cut
# down to one memory block and a 1 GiB budget never throttles, so the
# node runs out of free pages and approved demotions fail to allocate
# (pgmigrate_fail). Once reclaim is over, reserved_bytes must be 0, and
# given back exactly: the kernel tells the owner of each approved demotion
# that does not come (the demote_aborted callback: demote_aborted_pages),
# so none has to expire (reserve_dropped_bytes stays 0; before that
# callback, such reservations were only guessed from untracked frees or
# expired after a second of silence). The workload's pages are gone after
# its exit.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 14

cram_prepare && cram_module budget_mb=1024 ||
	{ tap_fail "setup: node 3 and spm_cram budget_mb=1024"; tap_done; }
total0=$(node_meminfo 3 MemTotal)
NODE3_ALL=$(ls -d $N/node3/memory[0-9]*/state)
tap_check "node 3 cut down to one memory block" node3_shrink
total=$(node_meminfo 3 MemTotal)
tap_between "node 3 MemTotal <= 128 MiB (kB)" 1 131072 "$total"

f0=$(file_key /proc/vmstat pgmigrate_fail)
run_load -m 192 -k 64
pages=$(v pages)
t=$(v demote.target)
tap_is "workload exits 0 (checksums intact)" 0 "$RC"
tap_between "node 3 filled up (pages there, kB)" $((total * 3 / 4)) "$total" $((t * 4))
tap_is "the rest stays on node 0" $((pages - t)) "$(v demote.node0)"
tap_between "approved demotions failed (pgmigrate_fail)" 1 1000000000 \
	$(($(file_key /proc/vmstat pgmigrate_fail) - f0))
tap_is "no demotion throttled (budget not reached)" 0 "$(v demote.cram.throttled)"
tap_is "checksums" 0 "$(v read.checksum_bad)"
[ "$RC" = 0 ] || tap_diag "$OUT"
tap_is "reserved_bytes back to 0 after failed demotions" 0 "$(cram_wait_zero reserved_bytes 5)"
tap_between "the owner heard of the aborted demotions (demote_aborted_pages)" 1 1000000000 \
	"$(cs demote_aborted_pages)"
tap_is "no reservation had to expire (reserve_dropped_bytes)" 0 "$(cs reserve_dropped_bytes)"
# Other tasks' anonymous pages (this shell's, the runner's) may have been
# demoted by kswapd meanwhile: up to 2 MiB.
tap_between "the workload's pages no longer accounted after its exit" 0 2097152 \
	"$(cs logical_bytes)"

tap_check "node 3 memory blocks back online" node3_restore
mt=$(node_meminfo 3 MemTotal)
[ "$mt" = "$total0" ] || tap_diag "$(grep . $NODE3_ALL | tr '\n' ' ')"
tap_is "node 3 MemTotal back (kB)" "$total0" "$mt"

cram_module

tap_done
