#!/bin/bash
# Node 3 onlined as an SPM node through dax/kmem with memmap_on_memory:
# the struct pages of its memory are carved from that memory itself
# (an altmap) instead of being allocated from SysRAM. Node 3 comes up
# SPM and empty, its MemTotal short of the range by exactly the memmap
# (64 bytes a page), and SysRAM pays nothing: the vmstat count of memmap
# pages does not grow, nodes 0 and 1 lose no memory to it. The next
# program runs the isolation tests against this node.
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0
MOM=/sys/module/memory_hotplug/parameters/memmap_on_memory

tap_plan 9
tap_is "memory_hotplug.memmap_on_memory" Y "$(cat $MOM 2>&1)"
out=$(ndctl create-namespace -f -e namespace0.0 -m devdax 2>&1)
[ -d "$DAX" ] || tap_diag "$out"
tap_is "spm_node: 1" ok "$(try_write $DAX/spm_node 1)"
tap_is "memmap_on_memory: 1" ok "$(try_write $DAX/memmap_on_memory 1)"
size=$(cat $DAX/size)
mm0=$(file_key /proc/vmstat nr_memmap_pages)
used0=$(( $(node_meminfo 0 MemTotal) + $(node_meminfo 1 MemTotal) ))

out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1)
rc=$?
case "$rc:$out" in
0:*'"mode":"system-ram"'*) tap_ok "daxctl onlines dax0.0 with its memmap on it" ;;
*) tap_fail "daxctl onlines dax0.0 with its memmap on it" "rc $rc: $out" ;;
esac
mm1=$(file_key /proc/vmstat nr_memmap_pages)
total=$(node_meminfo 3 MemTotal)
# The memory blocks kmem onlined: the dax range rounded in to whole blocks.
bs=$(( 0x$(cat /sys/devices/system/memory/block_size_bytes) ))
blocks=$(cat $N/node3/memory*/state 2>/dev/null | grep -cx online)
range_kb=$(( blocks * bs / 1024 ))
memmap_kb=$(( range_kb / 4 * 64 / 1024 ))
tap_diag "dax0.0 size $size, $blocks blocks of $((bs >> 20)) MiB; node 3 MemTotal $total kB;" \
	"nr_memmap_pages $mm0 -> $mm1; memmap of the range $memmap_kb kB"
tap_is "has_spm_memory" 2-3 "$(cat $N/has_spm_memory)"
tap_is "node 3 MemTotal is the range less its own memmap (kB)" $((range_kb - memmap_kb)) "$total"
# Online, the devdax memmap (ZONE_DEVICE struct pages) goes; none comes
# from SysRAM for the new memory.
if [ -n "$mm0" ] && [ -n "$mm1" ] && [ "$mm1" -le "$mm0" ]; then
	tap_ok "SysRAM allocates no memmap for node 3 (nr_memmap_pages $mm0 -> $mm1)"
else
	tap_fail "SysRAM allocates no memmap for node 3" "nr_memmap_pages $mm0 -> $mm1"
fi
tap_is "SysRAM nodes' MemTotal unchanged (kB)" "$used0" \
	"$(( $(node_meminfo 0 MemTotal) + $(node_meminfo 1 MemTotal) ))"
pcp=$(node_pcp_kb 3)
tap_between "node 3 is empty once online (MemUsed - per-cpu lists, kB)" 0 1024 $(( $(node_meminfo 3 MemUsed) - pcp ))
tap_done
