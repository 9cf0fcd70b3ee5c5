#!/bin/bash
# The latch the other way round (default boot, spm_nodes=2): node 3 is
# onlined as System RAM through dax/kmem (spm-setup-pmem), so it is SysRAM
# for life. Its memory is taken away again, the dax spm_node bit is set,
# and onlining it as SPM fails with a log line naming the node; as
# System RAM it comes back.
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0
refusal='spm: node 3 holds System RAM; refusing to add Specific Purpose Memory to it'
hit() { awk '$1 == "numa_hit" { print $2 }' "$N/node$1/numastat"; }

tap_plan 13

out=$(spm-setup-pmem 2>&1)
tap_is "spm-setup-pmem onlines node 3 as System RAM (rc)" 0 "$?"
tap_is "has_spm_memory is node 2 only" 2 "$(cat $N/has_spm_memory)"
tap_is "has_memory" 0-3 "$(cat $N/has_memory)"
tap_is "node 3 has no spm/ directory" no "$([ -e $N/node3/spm ] && echo yes || echo no)"
tap_is "root cpuset.mems.sysram includes node 3" 0-1,3 "$(cat /sys/fs/cgroup/cpuset.mems.sysram)"
a=$(hit 3)
numactl --membind=3 memhog 16m > /dev/null 2>&1
tap_is "numactl --membind=3 works without any permission (rc)" 0 "$?"
tap_between "... and allocates on node 3 (numa_hit pages)" 4096 100000 "$(( $(hit 3) - a ))"

out=$(daxctl reconfigure-device --mode=devdax -f dax0.0 2>&1)
tap_is "daxctl takes node 3's memory offline (rc)" 0 "$?"
tap_is "has_memory without node 3" 0-2 "$(cat $N/has_memory)"
echo 1 > $DAX/spm_node
before=$(dmesg | grep -cF "$refusal")
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
after=$(dmesg | grep -cF "$refusal")
if [ "$rc" -ne 0 ] && [ "$after" -gt "$before" ]; then
	tap_ok "onlining SPM memory into SysRAM node 3 fails, and the log names the node"
else
	tap_fail "onlining SPM memory into SysRAM node 3 fails, and the log names the node" \
		"rc $rc, log lines $before -> $after: $out"
fi
tap_is "node 3 got no memory; has_spm_memory unchanged" "0-2 2" "$(cat $N/has_memory $N/has_spm_memory | paste -sd' ' -)"

echo 0 > $DAX/spm_node
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
tap_is "as System RAM it comes back (rc)" 0 "$rc"
[ "$rc" = 0 ] || tap_diag "$out"
tap_is "has_memory" 0-3 "$(cat $N/has_memory)"

tap_done
