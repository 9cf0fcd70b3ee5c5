#!/bin/bash
# Node 3 becomes an SPM node through the real dax path: ndctl turns the
# legacy-pmem carve-out into dax0.0, its spm_node bit is set, and
# "daxctl reconfigure-device --mode=system-ram" onlines it unchanged
# through dax/kmem (MHP_SPM_NODE). The bit cannot change while kmem has
# the memory; bad writes are refused. Later programs of this suite use
# node 3 as an SPM node.
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0

tap_plan 17

out=$(ndctl create-namespace -f -e namespace0.0 -m devdax 2>&1)
tap_check "ndctl makes the carve-out a devdax namespace" test -d "$DAX"
[ -d "$DAX" ] || tap_diag "$out"
tap_is "dax0.0 belongs to node 3" 3 "$(cat $DAX/target_node 2>&1)"
tap_is "spm_node is 0 on a new dax device" 0 "$(cat $DAX/spm_node 2>&1)"
tap_is "spm_node: 'abc' is refused" "Invalid argument" "$(try_write $DAX/spm_node abc)"
tap_is "spm_node unchanged after a bad write" 0 "$(cat $DAX/spm_node 2>&1)"
tap_is "spm_node: 1 is accepted while no driver holds the memory" ok "$(try_write $DAX/spm_node 1)"

out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
case "$rc:$out" in
0:*'"mode":"system-ram"'*'"movable":true'*) tap_ok "daxctl reconfigure-device --mode=system-ram onlines it (movable)" ;;
*) tap_fail "daxctl reconfigure-device --mode=system-ram onlines it (movable)" "rc $rc: $out" ;;
esac
tap_is "has_spm_memory" 2-3 "$(cat $N/has_spm_memory)"
tap_is "has_memory" 0-3 "$(cat $N/has_memory)"
tap_is "node 3 owner" none "$(cat $N/node3/spm/owner 2>&1)"
tap_is "node 3 allow_user defaults to 0" 0 "$(cat $N/node3/spm/allow_user 2>&1)"
tap_between "node 3 MemTotal (kB)" 360000 400000 "$(node_meminfo 3 MemTotal)"
# Nothing lands there by itself: MemUsed less the per-cpu free lists ~ 0.
pcp=$(node_pcp_kb 3)
tap_between "node 3 is empty once online (MemUsed - per-cpu lists, kB)" 0 1024 $(( $(node_meminfo 3 MemUsed) - pcp ))
tap_is "spm_node cannot change while kmem holds the memory (EBUSY)" \
	"Device or resource busy" "$(try_write $DAX/spm_node 0)"
tap_is "spm_node still 1" 1 "$(cat $DAX/spm_node 2>&1)"

tap_is "root cpuset.mems.sysram leaves node 3 out" 0-1 "$(cat /sys/fs/cgroup/cpuset.mems.sysram)"

# The kernel said so, and nodes 0 and 1 got no demotion target (the dax
# node sits in a lower memory tier: without SPM it would be their target).
log=$(dmesg)
d0=$(grep 'Demotion targets for Node 0:' <<< "$log" | tail -1)
d1=$(grep 'Demotion targets for Node 1:' <<< "$log" | tail -1)
if grep -q 'spm: node 3 is now a Specific Purpose Memory node' <<< "$log" &&
   [ "${d0##*: }" = null ] && [ "${d1##*: }" = null ]; then
	tap_ok "kernel log: node 3 is SPM, no demotion into it"
else
	tap_fail "kernel log: node 3 is SPM, no demotion into it" \
		"$(grep -E 'spm:|Demotion targets' <<< "$log" | tail -8)"
fi

tap_done
