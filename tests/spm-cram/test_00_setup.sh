#!/bin/bash
# spm_cram setup: node 3 onlined as an SPM node through dax gets nothing
# by demotion while it has no owner; spm_cram refuses bad parameters and
# nodes, then claims node 3 with reclaim, demotion and the write fence,
# and makes it the demotion target of the SysRAM nodes.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 19

rmmod spm_cram 2>/dev/null
tap_check "node 3 online as an SPM node (spm-setup-pmem --spm)" cram_prepare
tap_is "has_spm_memory" 2-3 "$(cat $N/has_spm_memory)"
tap_is "node 3 has no owner" none "$(cat $N/node3/spm/owner)"
tap_is "unowned node 3 caps" "reclaim compaction longterm_pin" "$(cat $N/node3/spm/caps)"

# Without an owner granting demotion, reclaim has nowhere to put anon.
run_load -m 32 -q
tap_is "no owner: nothing demoted to node 3" 0 "$(v demote.target)"
tap_is "no owner: nothing on node 2" 0 "$(v demote.node2)"
tap_is "no owner: data stays on node 0" "$(v pages)" "$(v demote.node0)"
tap_is "no owner: memory.reclaim cannot reclaim (no swap, no target)" \
	"Resource temporarily unavailable" "$(v demote.pressure_rc)"
[ "$RC" = 0 ] || tap_diag "$OUT"

out=$(modprobe spm_cram nid=1 2>&1)
tap_is "nid=1 (SysRAM) refused: ENODEV" "No such device" "${out##*: }"
out=$(modprobe spm_cram budget_mb=0 2>&1)
tap_is "budget_mb=0 refused: EINVAL" "Invalid argument" "${out##*: }"
out=$(modprobe spm_cram high_pct=50 low_pct=60 2>&1)
tap_is "low_pct above high_pct refused: EINVAL" "Invalid argument" "${out##*: }"

tap_check "modprobe spm_cram" modprobe spm_cram
tap_is "node 3 owner" spm_cram "$(cat $N/node3/spm/owner)"
tap_is "node 3 caps" "reclaim demotion write_fence" "$(cat $N/node3/spm/caps)"
tap_is "allow_user refused while owned (EBUSY)" "Device or resource busy" \
	"$(try_write $N/node3/spm/allow_user 1)"
tap_is "node 2 still unowned" none "$(cat $N/node2/spm/owner)"
tap_is "budget and watermarks (128 MiB, 90%, 75%)" "134217728 120795955 100663296" \
	"$(cat $C/budget_bytes) $(cat $C/high_watermark_bytes) $(cat $C/low_watermark_bytes)"
tap_is "empty: logical, physical, ratio, fence, node" "0 0 0.000 1 3" \
	"$(cat $C/logical_bytes) $(cat $C/physical_bytes) $(cat $C/ratio) $(cat $C/fence) $(cat $C/node)"

# establish_demotion_targets() logs the new targets.
d0=$(dmesg | grep 'Demotion targets for Node 0:' | tail -1)
case "$d0" in
*"preferred: 3,"*) tap_ok "node 0 demotes to node 3" ;;
*) tap_fail "node 0 demotes to node 3" "$(dmesg | grep -E 'Demotion targets|spm' | tail -8)" ;;
esac

tap_done
