#!/bin/sh
# Smoke test: the real Debian tools run in the guest and do real work.
. /spm/lib/tap.sh

tap_plan 7

online=$(cat /sys/devices/system/node/online)
count=$(numactl --hardware | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')
want=$(awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }' <<EOT
$online
EOT
)
tap_is "numactl --hardware shows the $want online nodes ($online)" "$want" "$count"

tap_check "stress-ng starts" stress-ng --version
tap_check "ndctl and daxctl start" sh -c 'ndctl --version && daxctl --version'
tap_check "numastat starts" numastat

# memhog under numactl --membind=1: node 1's numa_hit grows by the size.
hit() { awk '$1 == "numa_hit" { print $2 }' "/sys/devices/system/node/node$1/numastat"; }
h0=$(hit 0) h1=$(hit 1)
if numactl --membind=1 memhog 64m > /dev/null; then
	d0=$(( $(hit 0) - h0 )) d1=$(( $(hit 1) - h1 ))
	# 64 MiB = 16384 pages; node 0 may see a few unrelated allocations.
	if [ "$d1" -ge 16384 ] && [ "$d0" -lt 8192 ]; then
		tap_ok "memhog 64m under --membind=1 allocates on node 1"
	else
		tap_fail "memhog 64m under --membind=1 allocates on node 1" \
			"numa_hit delta: node0 $d0, node1 $d1 pages"
	fi
else
	tap_fail "memhog 64m under --membind=1 allocates on node 1" "memhog failed"
fi

# migratepages moves a running task's pages from node 0 to node 1.
numactl --membind=0 memhog -r1000000 16m > /dev/null &
pid=$!
on_node() { awk -v n="N$1=" '{ for (i = 1; i <= NF; i++) if (index($i, n) == 1) s += substr($i, length(n) + 1) } END { print s + 0 }' "/proc/$pid/numa_maps"; }
# Wait until memhog has touched its 16 MiB (4096 pages) on node 0: on the
# debug kernel that takes longer than a fixed sleep.
i=0
while [ "$(on_node 0)" -lt 4096 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
before=$(on_node 1)
if migratepages "$pid" 0 1; then
	after=$(on_node 1)
	left=$(on_node 0)
	if [ $((after - before)) -ge 4096 ]; then
		tap_ok "migratepages moves a task's pages from node 0 to node 1"
	else
		tap_fail "migratepages moves a task's pages from node 0 to node 1" \
			"pages on node 1: $before -> $after, left on node 0: $left"
	fi
else
	tap_fail "migratepages moves a task's pages from node 0 to node 1" "migratepages failed"
fi
kill "$pid"
wait "$pid" 2>/dev/null

tap_check "stress-ng vm stressor runs on node 1" \
	numactl --membind=1 stress-ng --vm 1 --vm-bytes 32m --timeout 2s --quiet

tap_done
