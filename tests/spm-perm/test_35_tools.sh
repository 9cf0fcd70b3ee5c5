#!/bin/bash
# Rule 3 with the real tools: "all" in numactl and migratepages means the
# task's Mems_allowed, which must name only nodes the task may use. With
# unpermitted SPM nodes 2 and 3 present, numactl --membind=all and
# migratepages PID all 0 succeed (exit 0) and no memory lands on 2 or 3.
. /spm/lib/tap.sh

N=/sys/devices/system/node
hit() { file_key "$N/node$1/numastat" numa_hit; }
allow() { echo "$2" > "$N/node$1/spm/allow_user"; }
# Pages of a task per node, summed over its numa_maps: "N0 N1 N2 N3".
pages_of() {
	local maps
	maps=$(cat "/proc/$1/numa_maps" 2>/dev/null) || { tap_missing "/proc/$1/numa_maps"; return; }
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {
		split(substr($i, 2), a, "="); n[a[1]] += a[2] } }
	     END { printf "%d %d %d %d\n", n[0], n[1], n[2], n[3] }' <<< "$maps"
}

s2=$(cat $N/node2/spm/allow_user) s3=$(cat $N/node3/spm/allow_user)
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	allow 2 "$s2"; allow 3 "$s3"
}
trap cleanup EXIT

tap_plan 9
allow 2 0; allow 3 0

tap_is "Mems_allowed_list with nodes 2 and 3 unpermitted" 0-1 \
	"$(awk '$1 == "Mems_allowed_list:" { print $2 }' /proc/self/status)"

# 2-3: numactl --membind=all
a2=$(hit 2) a3=$(hit 3) a0=$(( $(hit 0) + $(hit 1) ))
out=$(numactl --membind=all memhog 32m 2>&1)
rc=$?
d2=$(( $(hit 2) - a2 )) d3=$(( $(hit 3) - a3 )) d01=$(( $(hit 0) + $(hit 1) - a0 ))
if [ "$rc" -eq 0 ]; then
	tap_ok "numactl --membind=all memhog 32m exits 0 (2, 3 unpermitted)"
else
	tap_fail "numactl --membind=all memhog 32m exits 0 (2, 3 unpermitted)" "rc $rc: $out"
fi
tap_diag "numa_hit deltas: nodes 0+1 $d01, node 2 $d2, node 3 $d3 (pages)"
tap_is "numactl --membind=all: nothing allocated on nodes 2 and 3" "0 0" "$d2 $d3"

# 4: node 2 permitted: --membind=all still works
allow 2 1
out=$(numactl --membind=all memhog 8m 2>&1)
rc=$?
tap_is "numactl --membind=all memhog 8m exits 0 with node 2 permitted" 0 "$rc"
[ "$rc" -ne 0 ] && tap_diag "$out"
allow 2 0

# 5-9: migratepages PID all 0
bash -c 'x=$(head -c 16000000 /dev/zero | tr "\0" a); echo ready; exec 1>&-; sleep 600; echo ${#x}' \
	> /tmp/spm-perm-holder.out 2>&1 &
bg=$!
for i in $(seq 1 100); do
	grep -q ready /tmp/spm-perm-holder.out 2>/dev/null && break
	sleep 0.2
done
# Put the holder's pages on node 1 first (both nodes are SysRAM).
migratepages "$bg" 0 1 > /dev/null 2>&1
read -r b0 b1 b2 b3 < <(pages_of "$bg")
tap_diag "holder $bg pages before: N0=$b0 N1=$b1 N2=$b2 N3=$b3"
tap_between "the holder has its 16 MB on node 1" 3900 1000000 "$b1"
out=$(migratepages "$bg" all 0 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	tap_ok "migratepages PID all 0 exits 0 (2, 3 unpermitted)"
else
	tap_fail "migratepages PID all 0 exits 0 (2, 3 unpermitted)" "rc $rc: $out"
fi
read -r c0 c1 c2 c3 < <(pages_of "$bg")
tap_diag "holder pages after: N0=$c0 N1=$c1 N2=$c2 N3=$c3"
tap_between "migratepages all 0 moved the node-1 pages to node 0" "$((b1 * 9 / 10))" 1000000 "$c0"
tap_is "nothing of the holder on nodes 2 and 3" "0 0" "$c2 $c3"
out=$(migratepages "$bg" 0-1 all 2>&1)
rc=$?
read -r e0 e1 e2 e3 < <(pages_of "$bg")
tap_diag "migratepages PID 0-1 all: rc $rc; after: N0=$e0 N1=$e1 N2=$e2 N3=$e3 $out"
tap_is "migratepages PID 0-1 all: exit 0, nothing on nodes 2 and 3" "0 0 0" "$rc $e2 $e3"

tap_done
