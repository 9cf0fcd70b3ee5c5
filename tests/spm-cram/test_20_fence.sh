#!/bin/bash
# The write fence: demoted pages are mapped read-only; a write faults,
# spm_cram counts it and asks for promotion, the page moves to a SysRAM
# node and the write lands there; the old copy's compressed size leaves
# the accounting. Then unloading spm_cram while its node holds the
# workload's pages: allowed; the node goes back to the unowned caps, the
# pages stay on node 3, intact, and take writes in place.
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 23

cram_prepare && cram_module || { tap_fail "setup: node 3 and spm_cram"; tap_done; }

# Rewrite every 4th page with incompressible data.
run_load -m 32 -k 2048 -w 25 -W random
b=$(v write0.on_target_before)
tap_is "workload exits 0" 0 "$RC"
tap_between "written pages that were on node 3" 1000 "$(v write0.pages)" "$b"
tap_is "every one of them moved to a SysRAM node" "$b" "$(v write0.moved_to_sysram)"
tap_is "none left on node 3" 0 "$(v write0.still_on_target)"
tap_is "checksums after the writes" 0 "$(v write0.checksum_bad)"
# Two faults per page: the promoted copy is mapped read-only too (the
# migration entry came from a read-only PTE); the retried write then takes
# a write-protect fault that reuses the page.
tap_between "each write to a demoted page faulted (1 or 2 times)" "$b" $((2 * b + 64)) \
	"$(v write0.minflt)"
# The workload's bookkeeping (written by move_pages) can be demoted too.
tap_between "fenced_writes counted" "$b" $((b + 512)) "$(v write0.cram.fenced_writes)"
tap_between "promotions counted (pages)" "$b" $((b + 512)) "$(v write0.cram.promotions)"
drop=$(( $(v demote.cram.physical_bytes) - $(v write0.cram.physical_bytes) ))
within5 "physical_bytes dropped by the promoted pages' LZ4 size (within 5%)" \
	$((b * $(v expected_page_bytes))) "$drop"
tap_is "nothing on node 2" 0 "$(v final.node2)"
[ "$RC" = 0 ] && [ "${b:-0}" -gt 0 ] || tap_diag "$OUT"

# Unload while the workload's pages sit on node 3.
out=/tmp/cram-pause.out
load_paused $out -m 16 -k 2048
held=$(v final.target)
tap_between "paused workload holds pages on node 3" 1 "$(v pages)" "$held"
tap_check "rmmod spm_cram with pages on node 3" rmmod spm_cram
tap_is "node 3 owner after unload" none "$(cat $N/node3/spm/owner)"
tap_is "node 3 caps after unload (unowned)" "reclaim compaction longterm_pin" \
	"$(cat $N/node3/spm/caps)"
tap_check "/sys/kernel/spm_cram is gone" test ! -e $C
kill -USR1 $pid
wait $pid
RC=$?
OUT=$(cat $out)
tap_is "resumed workload exits 0" 0 "$RC"
tap_is "checksums after unload" 0 "$(v resume.checksum_bad)"
tap_is "the pages stayed on node 3" "$held" "$(v resume.target)"
tap_is "rewriting every page: checksums" 0 "$(v rewrite.checksum_bad)"
tap_is "unfenced writes happen in place (pages stay on node 3)" "$held" \
	"$(v rewrite.target)"
[ "$RC" = 0 ] || tap_diag "$OUT"
if dmesg | grep -q "spm_cram: node 3 released with"; then
	tap_ok "unload logged the bytes left on node 3"
else
	tap_fail "unload logged the bytes left on node 3" "$(dmesg | grep spm_cram | tail -3)"
fi

tap_check "spm_cram loads again" modprobe spm_cram
tap_is "node 3 owner after reload" spm_cram "$(cat $N/node3/spm/owner)"

tap_done
