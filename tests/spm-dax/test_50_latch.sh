#!/bin/bash
# The SysRAM/SPM latch on a hotplugged node: take node 3's memory away
# (daxctl back to devdax), clear the dax spm_node bit and try to online
# it as System RAM: refused, with a log line naming the node, and node 3
# gets no memory. Then online it again as SPM: it works.
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0

tap_plan 10

tap_is "node 3 starts as an SPM node with memory" 2-3 "$(cat $N/has_spm_memory)"
out=$(daxctl reconfigure-device --mode=devdax -f dax0.0 2>&1)
tap_is "daxctl takes node 3's memory offline (rc)" 0 "$?"
tap_is "has_memory without node 3" 0-2 "$(cat $N/has_memory)"
tap_is "has_spm_memory without node 3" 2 "$(cat $N/has_spm_memory)"
tap_is "spm_node can be cleared once kmem let go" ok "$(try_write $DAX/spm_node 0)"

before=$(dmesg | grep -c 'node 3 is a Specific Purpose Memory node; refusing to add System RAM')
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
after=$(dmesg | grep -c 'node 3 is a Specific Purpose Memory node; refusing to add System RAM')
if [ "$rc" -ne 0 ] && [ "$after" -gt "$before" ]; then
	tap_ok "onlining System RAM into SPM node 3 fails, and the log names the node"
else
	tap_fail "onlining System RAM into SPM node 3 fails, and the log names the node" \
		"rc $rc, log lines $before -> $after: $out"
fi
tap_is "node 3 got no memory" 0-2 "$(cat $N/has_memory)"
tap_is "has_spm_memory unchanged" 2 "$(cat $N/has_spm_memory)"

try_write $DAX/spm_node 1 > /dev/null
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
tap_is "onlining it again as SPM works (rc)" 0 "$rc"
[ "$rc" = 0 ] || tap_diag "$out"
tap_is "has_spm_memory again" 2-3 "$(cat $N/has_spm_memory)"

tap_done
