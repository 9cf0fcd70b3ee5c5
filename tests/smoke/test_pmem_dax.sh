#!/bin/sh
# Smoke test: the legacy-pmem carve-out (memmap=512M!0x120000000) is an
# nvdimm namespace on node 3, becomes devdax, and dax/kmem onlines about
# 384 MiB of it into node 3 (spm-setup-pmem, without --spm).
. /spm/lib/tap.sh

tap_plan 8

ns=$(ndctl list -N 2>&1)
case "$ns" in
*'"dev":"namespace0.0"'*'"size":536870912'*) tap_ok "ndctl lists the 512 MiB pmem namespace" ;;
*) tap_fail "ndctl lists the 512 MiB pmem namespace" "$ns" ;;
esac
tap_is "the pmem region belongs to node 3" 3 "$(cat /sys/bus/nd/devices/region0/target_node 2>&1)"

tap_check "spm-setup-pmem" spm-setup-pmem

dax=$(daxctl list 2>&1)
case "$dax" in
*'"chardev":"dax0.0"'*'"target_node":3'*'"mode":"system-ram"'*) tap_ok "daxctl shows dax0.0 as system-ram on node 3" ;;
*) tap_fail "daxctl shows dax0.0 as system-ram on node 3" "$dax" ;;
esac

# 512 MiB less the devdax metadata (struct pages) and alignment: ~384 MiB.
tap_between "node 3 has about 384 MiB (kB)" 360000 400000 "$(node_meminfo 3 MemTotal)"
tap_is "nodes 0-3 online" 0-3 "$(cat /sys/devices/system/node/online)"
tap_is "node 3 has no CPU" "" "$(cat /sys/devices/system/node/node3/cpulist)"
tap_check "numactl --hardware shows 4 nodes" sh -c 'numactl --hardware | grep -qx "available: 4 nodes (0-3)"'

tap_done
