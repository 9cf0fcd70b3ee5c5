#!/bin/bash
# The suite's machine: nodes 2 and 3 are both SPM nodes with memory at boot
# (spm_nodes=2,3, no pmem carve-out), unowned, allow_user 0 by default.
. /spm/lib/tap.sh

N=/sys/devices/system/node

tap_plan 8
tap_check "the last spm_nodes= on the command line is 2,3" \
	sh -c 'grep -q "spm_nodes=2,3" /proc/cmdline && ! grep -q memmap= /proc/cmdline'
tap_is "has_spm_memory" 2-3 "$(cat $N/has_spm_memory 2>&1)"
tap_is "has_memory" 0-3 "$(cat $N/has_memory 2>&1)"
tap_between "node 2 MemTotal (kB)" 400000 530000 "$(node_meminfo 2 MemTotal)"
tap_between "node 3 MemTotal (kB)" 400000 530000 "$(node_meminfo 3 MemTotal)"
tap_is "owners" "none none" "$(cat $N/node2/spm/owner $N/node3/spm/owner 2>&1 | paste -sd' ' -)"
tap_is "allow_user defaults" "0 0" "$(cat $N/node2/spm/allow_user $N/node3/spm/allow_user 2>&1 | paste -sd' ' -)"
tap_check "cgroup2 has cpuset and memory enabled" \
	sh -c 'grep -qw cpuset /sys/fs/cgroup/cgroup.subtree_control && grep -qw memory /sys/fs/cgroup/cgroup.subtree_control'
tap_done
