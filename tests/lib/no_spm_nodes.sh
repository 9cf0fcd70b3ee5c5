# Shared body of the spm-boot-* suites, sourced by their test after it sets
# want_log=( kernel log lines that must appear ): a bad spm_nodes= leaves
# the machine with no SPM node at all (it never half-applies): no
# has_spm_memory entry, no nodeN/spm/, node 2 is ordinary System RAM.
. /spm/lib/tap.sh

N=/sys/devices/system/node

tap_plan $(( ${#want_log[@]} + 8 ))

log=$(dmesg)
for l in "${want_log[@]}"; do
	if grep -qF -- "$l" <<< "$log"; then
		tap_ok "kernel log: $l"
	else
		tap_fail "kernel log: $l" "$(grep -E 'spm|Command line' <<< "$log")"
	fi
done
if grep -q 'Specific Purpose Memory nodes:' <<< "$log"; then
	tap_fail "kernel log: no SPM node was set up" "$(grep 'spm' <<< "$log")"
else
	tap_ok "kernel log: no SPM node was set up"
fi
tap_is "has_spm_memory is empty" "" "$(cat $N/has_spm_memory 2>&1)"
tap_is "has_memory" 0-2 "$(cat $N/has_memory)"
spmdirs=$(ls -d $N/node*/spm 2>/dev/null)
tap_is "no nodeN/spm directory" "" "$spmdirs"
tap_is "root cpuset.mems.sysram is every memory node" 0-2 "$(cat /sys/fs/cgroup/cpuset.mems.sysram)"

# Node 2 is plain System RAM: --membind=2 works with no permission at all.
hit() { awk '$1 == "numa_hit" { print $2 }' "$N/node$1/numastat"; }
a=$(hit 2)
out=$(numactl --membind=2 memhog 32m 2>&1)
rc=$?
d=$(( $(hit 2) - a ))
if [ "$rc" -eq 0 ] && [ "$d" -ge 8192 ]; then
	tap_ok "numactl --membind=2 allocates on node 2"
else
	tap_fail "numactl --membind=2 allocates on node 2" "rc $rc, numa_hit +$d: $out"
fi
# ... and interleave=all uses it.
a=$(hit 2)
numactl --interleave=all memhog 48m > /dev/null 2>&1
d=$(( $(hit 2) - a ))
tap_between "numactl --interleave=all puts about a third on node 2 (pages)" 3000 8000 "$d"
# MemAvailable counts node 2's free memory.
avail=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
f01=$(( $(node_meminfo 0 MemFree) + $(node_meminfo 1 MemFree) ))
if [ "$avail" -gt "$f01" ]; then
	tap_ok "MemAvailable ($avail kB) counts node 2 (nodes 0+1 free: $f01 kB)"
else
	tap_fail "MemAvailable counts node 2" "MemAvailable $avail kB, nodes 0+1 free $f01 kB"
fi

tap_done
