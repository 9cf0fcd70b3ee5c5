#!/bin/bash
# The real numactl, migratepages and numastat against SPM node $SPM_NODE
# (default 2): --membind works unchanged when the node permits user
# placement and is refused otherwise (EPERM from the kernel); --interleave=all and
# --preferred never land on it; a cpuset without the node refuses it;
# migratepages follows the same rule; numa_maps, numastat and
# numactl --hardware tell the truth.
. /spm/lib/tap.sh

SPM=${SPM_NODE:-2}
N=/sys/devices/system/node
AU=$N/node$SPM/spm/allow_user
CG=/sys/fs/cgroup/spm-numactl-$$

stat_of() { file_key "$N/node$1/numastat" "$2"; }
hit() { stat_of "$1" numa_hit; }
allow() { echo "$1" > "$AU"; }

saved=$(cat "$AU" 2>/dev/null)
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	[ -d "$CG" ] && { echo $$ > /sys/fs/cgroup/cgroup.procs; rmdir "$CG"; } 2>/dev/null
	[ -n "$saved" ] && echo "$saved" > "$AU"
}
trap cleanup EXIT

tap_plan 11

if [ -z "$saved" ]; then
	tap_diag "$AU missing: node $SPM is not an SPM node"
fi

# 1: not permitted.  Mems_allowed does not list the node, so libnuma
# refuses it as it refuses a node outside the cpuset ("out of range");
# with --all (no such check in libnuma) the kernel says EPERM.
allow 0
a=$(hit "$SPM")
out=$(numactl --membind="$SPM" memhog 16m 2>&1)
rc=$?
outa=$(numactl --all --membind="$SPM" memhog 16m 2>&1)
rca=$?
d=$(( $(hit "$SPM") - a ))
case "$rc:$out/$rca:$outa" in
[1-9]*:*"out of range"*/[1-9]*:*"Operation not permitted"*)
	if [ "$d" -eq 0 ]; then tap_ok "numactl --membind=$SPM is refused (libnuma: out of range; --all: EPERM) when allow_user=0"
	else tap_fail "numactl --membind=$SPM is refused (libnuma: out of range; --all: EPERM) when allow_user=0" "numa_hit on node $SPM grew by $d"; fi ;;
*) tap_fail "numactl --membind=$SPM is refused (libnuma: out of range; --all: EPERM) when allow_user=0" "rc $rc: $out; --all: rc $rca: $outa" ;;
esac

# 2: permitted
allow 1
a=$(hit "$SPM")
out=$(numactl --membind="$SPM" memhog 64m 2>&1)
rc=$?
d=$(( $(hit "$SPM") - a ))
if [ "$rc" -eq 0 ] && [ "$d" -ge 16384 ]; then
	tap_ok "numactl --membind=$SPM memhog 64m allocates on node $SPM when allowed"
else
	tap_fail "numactl --membind=$SPM memhog 64m allocates on node $SPM when allowed" \
		"rc $rc, numa_hit delta $d pages: $out"
fi

# 3: numa_maps of a program under --membind: anonymous pages on the node
maps=$(numactl --membind="$SPM" cat /proc/self/numa_maps 2>&1)
anon=$(grep -E ' (anon|stack|heap)' <<< "$maps")
wrong=$(grep -E ' (anon|stack|heap)' <<< "$maps" | grep -E " N[0-9]+=" | grep -vE "^[^ ]+ bind:$SPM .* N$SPM=[0-9]+( kernelpagesize_kB=[0-9]+)?$")
if grep -q " N$SPM=" <<< "$anon" && [ -z "$wrong" ]; then
	tap_ok "numa_maps under --membind=$SPM: bind:$SPM, anonymous pages on N$SPM only"
else
	tap_fail "numa_maps under --membind=$SPM: bind:$SPM, anonymous pages on N$SPM only" "$maps"
fi

# 4, 5: --interleave=all never lands on the SPM node, allowed or not
for au in 0 1; do
	allow "$au"
	a=$(hit "$SPM") i0=$(stat_of 0 interleave_hit) i1=$(stat_of 1 interleave_hit)
	out=$(numactl --interleave=all memhog 64m 2>&1)
	rc=$?
	d=$(( $(hit "$SPM") - a )) d0=$(( $(stat_of 0 interleave_hit) - i0 )) d1=$(( $(stat_of 1 interleave_hit) - i1 ))
	if [ "$rc" -eq 0 ] && [ "$d" -eq 0 ] && [ "$d0" -ge 4096 ] && [ "$d1" -ge 4096 ]; then
		tap_ok "numactl --interleave=all spreads over nodes 0 and 1 only (allow_user=$au)"
	else
		tap_fail "numactl --interleave=all spreads over nodes 0 and 1 only (allow_user=$au)" \
			"rc $rc; numa_hit node $SPM +$d; interleave_hit node0 +$d0 node1 +$d1; $out"
	fi
done

# 6: --preferred=SPM: refused or placed elsewhere, never on the node
allow 1
a=$(hit "$SPM")
out=$(numactl --preferred="$SPM" memhog 16m 2>&1)
rc=$?
d=$(( $(hit "$SPM") - a ))
if [ "$d" -eq 0 ]; then
	tap_ok "numactl --preferred=$SPM never lands on node $SPM (rc $rc)"
else
	tap_fail "numactl --preferred=$SPM never lands on node $SPM" "numa_hit delta $d; rc $rc: $out"
fi

# 7: a cpuset without the node refuses --membind even when allowed
sysram=0-1
mkdir "$CG" && echo "$sysram" > "$CG/cpuset.mems"
a=$(hit "$SPM")
out=$(bash -c "echo \$\$ > $CG/cgroup.procs && exec numactl --membind=$SPM memhog 16m" 2>&1)
rc=$?
d=$(( $(hit "$SPM") - a ))
if [ "$rc" -ne 0 ] && [ "$d" -eq 0 ]; then
	tap_ok "numactl --membind=$SPM fails in a cpuset with mems $sysram"
else
	tap_fail "numactl --membind=$SPM fails in a cpuset with mems $sysram" "rc $rc, numa_hit delta $d: $out"
fi
rmdir "$CG" 2>/dev/null

# 8, 9: migratepages onto the node: refused, then allowed
pages_on() {
	local maps
	maps=$(cat "/proc/$1/numa_maps" 2>/dev/null) || { tap_missing "/proc/$1/numa_maps"; return; }
	grep -oE " N$2=[0-9]+" <<< "$maps" | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'
}
numactl --membind=1 memhog -r1000000 32m > /dev/null 2>&1 &
bg=$!
for i in $(seq 50); do
	[ "$(pages_on "$bg" 1)" -ge 8192 ] && break
	sleep 0.2
done
allow 0
before=$(pages_on "$bg" "$SPM")
out=$(migratepages "$bg" 1 "$SPM" 2>&1)
rc=$?
after=$(pages_on "$bg" "$SPM")
if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
	tap_ok "migratepages 1 -> $SPM fails when allow_user=0"
else
	tap_fail "migratepages 1 -> $SPM fails when allow_user=0" "rc $rc, pages on N$SPM $before -> $after: $out"
fi
allow 1
out=$(migratepages "$bg" 1 "$SPM" 2>&1)
rc=$?
after=$(pages_on "$bg" "$SPM")
if [ "$rc" -eq 0 ] && [ "$after" -ge 8192 ]; then
	tap_ok "migratepages 1 -> $SPM moves the pages when allowed"
else
	tap_fail "migratepages 1 -> $SPM moves the pages when allowed" "rc $rc, pages on N$SPM: $after: $out"
fi
# Put everything back (migratepages moves all of the task's pages on the
# node, its shared libraries' page cache included).
migratepages "$bg" "$SPM" 1 > /dev/null 2>&1
kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=

# 10: numactl --hardware shows the node and its size
size=$(numactl --hardware | sed -n "s/^node $SPM size: \([0-9]*\) MB$/\1/p")
want=$(( $(node_meminfo "$SPM" MemTotal) / 1024 ))
tap_is "numactl --hardware: node $SPM size" "$want" "$size"

# 11: numastat -m agrees with the node's meminfo (MemFree, within 2 MB).
# The two reads are apart in time: pages of the task killed above may still
# be draining from the per-cpu lists, so take the first of five tries that
# agrees.
col=$(numastat -m 2>/dev/null | grep -c "Node $SPM")
for try in 1 2 3 4 5; do
	nsfree=$(numastat -m | awk -v s="$SPM" '$1 == "MemFree" { print int($(s + 2)) }')
	kfree=$(( $(node_meminfo "$SPM" MemFree) / 1024 ))
	[ -n "$nsfree" ] && [ $((nsfree - kfree)) -le 2 ] && [ $((kfree - nsfree)) -le 2 ] && break
	sleep 1
done
if [ -n "$col" ] && [ -n "$nsfree" ] && [ $((nsfree - kfree)) -le 2 ] && [ $((kfree - nsfree)) -le 2 ]; then
	tap_ok "numastat -m shows node $SPM MemFree ($nsfree MB)"
else
	tap_fail "numastat -m shows node $SPM MemFree" "numastat '$nsfree' MB, meminfo $kfree MB; $(numastat -m | head -8)"
fi

tap_done
