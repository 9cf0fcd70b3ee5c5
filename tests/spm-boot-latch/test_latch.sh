#!/bin/bash
# spm_nodes=2,3: node 3 has no memory at boot but is latched SPM. Onlining
# the pmem carve-out into it as System RAM (dax/kmem without spm_node)
# fails with a log line naming the node, and node 3 gets no memory; with
# the spm_node bit (spm-setup-pmem --spm) it comes up as an SPM node.
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0
refusal='spm: node 3 is a Specific Purpose Memory node; refusing to add System RAM to it'

tap_plan 12

tap_check "the last spm_nodes= on the command line is 2,3" \
	sh -c 'grep -q "spm_nodes=2 .*spm_nodes=2,3$" /proc/cmdline'
tap_check "kernel log: SPM nodes 2-3, with memory 2" \
	sh -c 'dmesg | grep -qF "spm: Specific Purpose Memory nodes: 2-3 (with memory: 2)"'
tap_is "has_spm_memory lists only nodes with memory" 2 "$(cat $N/has_spm_memory)"
tap_is "has_memory" 0-2 "$(cat $N/has_memory)"

ndctl create-namespace -f -e namespace0.0 -m devdax > /dev/null 2>&1
tap_is "dax0.0 on node 3, spm_node 0" "3 0" "$(cat $DAX/target_node $DAX/spm_node 2>&1 | paste -sd' ' -)"
before=$(dmesg | grep -cF "$refusal")
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
after=$(dmesg | grep -cF "$refusal")
if [ "$rc" -ne 0 ]; then
	tap_ok "daxctl reconfigure-device --mode=system-ram fails (rc $rc)"
else
	tap_fail "daxctl reconfigure-device --mode=system-ram fails" "$out"
fi
tap_between "kernel log names node 3 in the refusal" 1 100 "$((after - before))"
tap_is "node 3 got no memory" 0-2 "$(cat $N/has_memory)"
tap_is "node 3 is not online" 0-2 "$(cat $N/online)"

out=$(spm-setup-pmem --spm 2>&1)
tap_is "spm-setup-pmem --spm onlines it as SPM (rc)" 0 "$?"
[ -n "$out" ] && tap_diag "$out"
tap_is "has_spm_memory" 2-3 "$(cat $N/has_spm_memory)"
tap_between "node 3 MemTotal (kB)" 360000 400000 "$(node_meminfo 3 MemTotal)"

tap_done
