#!/bin/bash
# spm_nodes=0 with KASLR on: the decompressor reads SRAT, numbers the nodes
# as the kernel will, and chooses the kernel's physical address outside
# node 0's memory; node 0 becomes an SPM node. Without that, KASLR put the
# image on node 0 in about 40% of boots.
. /spm/lib/tap.sh
. /spm/lib/kernel_image.sh

tap_plan 5
read -r start end <<< "$(image_range)"
tap_diag "kernel image [mem 0x$start-0x$end]"
tap_is "KASLR is on (no nokaslr)" no "$(grep -qw nokaslr /proc/cmdline && echo yes || echo no)"
ns=$(node_of_phys "${start:-0}")
ne=$(node_of_phys "${end:-0}")
if [ "$ns" != 0 ] && [ "$ne" != 0 ] && [ "$ns" != none ]; then
	tap_ok "the kernel image is off node 0 (on node $ns)"
else
	tap_fail "the kernel image is off node 0" "start on node $ns, end on node $ne"
fi
tap_is "has_spm_memory is node 0" 0 "$(cat /sys/devices/system/node/has_spm_memory)"
log=$(dmesg | grep 'spm: ')
tap_diag "$log"
if grep -q 'holds the kernel image' <<< "$log"; then
	tap_fail "no node refused for holding the kernel image" "$log"
else
	tap_ok "no node refused for holding the kernel image"
fi
tap_is "node 0 owner" none "$(cat /sys/devices/system/node/node0/spm/owner 2>/dev/null)"
tap_done
