#!/bin/bash
# The kernel image is never on an SPM node: with KASLR the decompressor
# keeps it off the memory of spm_nodes= nodes (node 2 here, the highest
# address with memory from boot); without KASLR it sits at its load
# address, 16 MiB, on node 0.
. /spm/lib/tap.sh
. /spm/lib/kernel_image.sh

tap_plan 2
read -r start end <<< "$(image_range)"
spm=$(cat /sys/devices/system/node/has_spm_memory)
ns=$(node_of_phys "${start:-0}")
ne=$(node_of_phys "${end:-0}")
tap_diag "kernel image [mem 0x$start-0x$end]: nodes $ns-$ne; SPM nodes: $spm"
tap_is "SPM nodes from boot" 2 "$spm"
if [ "$ns" != none ] && [ "$ns" != 2 ] && [ "$ne" != 2 ]; then
	tap_ok "the kernel image is on no SPM node (node $ns)"
else
	tap_fail "the kernel image is on no SPM node" "start on node $ns, end on node $ne"
fi
tap_done
