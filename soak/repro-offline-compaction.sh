#!/bin/bash
# Reproducer of the oops the soak found (guest side): memory offline and
# online of node 3's blocks in a loop, racing writes to
# /proc/sys/vm/compact_memory, with anonymous memory bound to node 3.
#
#   tools/spm-vm --kernel patched --add soak/repro-offline-compaction.sh \
#       --exec 'bash /add/repro-offline-compaction.sh 120 [--spm]'
#
# --spm onlines node 3 as an SPM node (allow_user on); without it node 3
# is SysRAM. On the 30-patch series (spm_nodes=2, the default of
# tools/spm-vm) it oopsed in set_pfnblock_flags_mask() after 42, 47 and 88 s;
# with node 3 SysRAM too; on the baseline kernel, or patched without SPM
# nodes, it did not in 150-240 s (why the series makes it likelier is not
# established: the window is the same there). Patch 31 makes compact_memory
# and kcompactd give way to memory hotplug (150 s, 274 offlines, 2961
# compact_memory writes: no oops); spm-services/test_35_offline_compaction
# checks that deterministically.
secs=${1:-120}
spm=${2:-}
spm-setup-pmem $spm || exit 1
[ -n "$spm" ] && echo 1 > /sys/devices/system/node/node3/spm/allow_user
blocks=$(ls -d /sys/devices/system/node/node3/memory[0-9]* | sed 's/.*memory//')
echo "node 3 blocks:" $blocks
end=$(($(date +%s) + secs))
(
	while [ "$(date +%s)" -lt $end ]; do
		numactl --membind=3 memhog -r2 160M > /dev/null 2>&1
	done
) &
(
	c=0
	while [ "$(date +%s)" -lt $end ]; do
		echo 1 > /proc/sys/vm/compact_memory
		c=$((c + 1))
	done
	echo "compact_memory writes: $c"
) &
n=0
ok=0
while [ "$(date +%s)" -lt $end ]; do
	for b in $blocks; do
		n=$((n + 1))
		if echo offline > /sys/devices/system/memory/memory$b/state 2> /dev/null; then
			ok=$((ok + 1))
			echo online_movable > /sys/devices/system/memory/memory$b/state ||
				echo "memory$b: online failed"
		fi
	done
done
wait
echo "offline attempts: $n, succeeded: $ok"
