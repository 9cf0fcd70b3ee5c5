#!/bin/bash
# After every program of the suite has exited, the SPM nodes ($SPM_NODES,
# default 2) hold nothing: no page cache, anonymous, shmem or slab pages,
# and MemUsed less the pages in the per-cpu free lists (free, but counted
# as used) is about zero. Anything left is general-purpose memory that
# some path put on the node and that outlived the request that placed it.
. /spm/lib/tap.sh

nodes=${SPM_NODES:-2}
N=/sys/devices/system/node

tap_plan $(( $(wc -w <<< "$nodes") * 5 ))

echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
for SPM in $nodes; do
	for k in FilePages Shmem AnonPages Slab; do
		tap_is "node $SPM $k (kB)" 0 "$(node_meminfo "$SPM" $k)"
	done
	pcp=$(node_pcp_kb "$SPM")
	used=$(( $(node_meminfo "$SPM" MemUsed) - pcp ))
	if [ "$used" -le 1024 ]; then
		tap_ok "node $SPM MemUsed - per-cpu free lists: $used kB"
	else
		tap_fail "node $SPM MemUsed - per-cpu free lists <= 1024 kB" \
			"$used kB; $(grep -E 'MemUsed|FilePages|AnonPages|Shmem:|Slab|PageTables|KernelStack' $N/node$SPM/meminfo | tr -s ' ' | paste -sd';' -)"
	fi
done

tap_done
