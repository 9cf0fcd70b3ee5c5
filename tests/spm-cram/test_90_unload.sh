#!/bin/bash
# After spm_cram is unloaded node 3 is an unowned SPM node again: it is no
# demotion target any more, and what the workloads put there is gone.
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 7

cram_prepare || { tap_fail "setup: node 3"; tap_done; }
modprobe spm_cram
tap_check "rmmod spm_cram" rmmod spm_cram
tap_is "node 3 owner" none "$(cat $N/node3/spm/owner)"
tap_is "node 3 caps" "reclaim compaction longterm_pin" "$(cat $N/node3/spm/caps)"
d0=$(dmesg | grep 'Demotion targets for Node 0:' | tail -1)
tap_is "node 0 has no demotion target" null "${d0##*: }"

run_load -m 16 -q
tap_is "nothing demoted to node 3" 0 "$(v demote.target)"
tap_is "workload exits 0" 0 "$RC"
tap_between "node 3 AnonPages (kB)" 0 1024 "$(node_meminfo 3 AnonPages)"
rmdir /sys/fs/cgroup/spm-cram-load /sys/fs/cgroup/spm-cram-move 2>/dev/null

tap_done
