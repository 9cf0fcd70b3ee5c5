#!/bin/bash
# spm_nodes=0 with nokaslr: the kernel image sits at its load address on
# node 0. A node holding the kernel image can never give that memory back
# or be removed, so the kernel refuses to make it an SPM node, says why,
# and runs with node 0 as System RAM.
. /spm/lib/tap.sh
. /spm/lib/kernel_image.sh

tap_plan 5
read -r start end <<< "$(image_range)"
tap_diag "kernel image [mem 0x$start-0x$end]"
tap_is "the kernel image starts on node 0" 0 "$(node_of_phys "${start:-0}")"
log=$(dmesg | grep 'spm: ')
tap_diag "$log"
if grep -q "spm_nodes=: node 0 holds the kernel image \[mem 0x0*$start-" <<< "$log"; then
	tap_ok "the kernel says node 0 holds the kernel image"
else
	tap_fail "the kernel says node 0 holds the kernel image" "no such line in: $log"
fi
tap_is "has_spm_memory is empty" "" "$(cat /sys/devices/system/node/has_spm_memory)"
tap_is "node 0 has no spm/ directory" no "$([ -d /sys/devices/system/node/node0/spm ] && echo yes || echo no)"
tap_is "node 2 is not SPM either (the last spm_nodes= counts)" no \
	"$([ -d /sys/devices/system/node/node2/spm ] && echo yes || echo no)"
tap_done
