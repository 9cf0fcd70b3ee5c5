#!/bin/bash
# The project demo, run inside the VM by "make demo" (demo/run: once on the
# stock kernel with --stock, once on the patched kernel; by hand:
# tools/spm-vm --add demo --exec 'bash /add/demo/demo.sh').
#
# Walks through the emulated machine: the NUMA topology, per-node memory,
# the SPM node lists, and node 3 coming online through the real dax path.
# Below the marked line, the isolation story: which nodes are SPM; 1.2 GB
# of page cache plus an anonymous hog that fill nodes 0-1 and leave 2-3
# untouched; numactl --membind=2 refused (EPERM) until allow_user=1;
# --interleave=all kept on SysRAM; cpuset.mems.sysram. Each step checks
# what it shows and the demo exits non-zero ("DEMO FAILED") when it is wrong.
#
#   bash demo.sh [--stock] [--record FILE]
#
#   --stock        stock mode, for a kernel without the series (demo/run boots
#                  build/out/baseline with it; the default when
#                  /sys/devices/system/node/has_spm_memory is missing): the same
#                  machine walk-through (node 3 onlined through dax/kmem, as
#                  ordinary memory there) and the same pressure, shown and not
#                  checked; nothing after it
#   --record FILE  also write the per-node meminfo before and under the
#                  pressure to FILE, one line a node:
#                    NODES <before|after> mode=<spm|stock> node=N kind=<SysRAM|SPM>
#                          MemTotal=kB MemFree=kB AnonPages=kB FilePages=kB PcpFree=kB
#                  (PcpFree: free pages on the node's per-cpu lists, which
#                  MemFree leaves out)
#                  then "NODES workload file_mb=N hog_mb=N" and "NODES done"
#                  (demo/run passes /dev/ttyS1, its second serial port)
set -euo pipefail

NODE=/sys/devices/system/node

MODE=spm
[ -e "$NODE/has_spm_memory" ] || MODE=stock
REC=
while [ $# -gt 0 ]; do
	case "$1" in
	--stock) MODE=stock; shift ;;
	--record) REC=${2:?--record needs a file}; shift 2 ;;
	*) echo "usage: demo.sh [--stock] [--record FILE]" >&2; exit 2 ;;
	esac
done

step() { printf '\n=== %s\n' "$*"; }
say() { printf '    %s\n' "$@"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }

nodelist() { if [ -e "$NODE/$1" ]; then cat "$NODE/$1"; else echo "(no $1: kernel without SPM support)"; fi; }

node_table() {
	printf '    %-5s %-6s %10s %10s %10s %10s\n' node cpus "total MB" "free MB" "anon MB" "file MB"
	local d n
	for d in "$NODE"/node[0-9]*; do
		n=${d##*node}
		awk -v n="$n" -v cpus="$(cat "$d/cpulist")" '
			$3 == "MemTotal:" { t = $4 } $3 == "MemFree:" { f = $4 }
			$3 == "AnonPages:" { a = $4 } $3 == "FilePages:" { p = $4 }
			END { printf "    %-5s %-6s %10d %10d %10d %10d\n", n, (cpus == "" ? "-" : cpus), t / 1024, f / 1024, a / 1024, p / 1024 }
		' "$d/meminfo"
	done
}

lists() {
	say "online:          $(nodelist online)" \
	    "has_cpu:         $(nodelist has_cpu)" \
	    "has_memory:      $(nodelist has_memory)" \
	    "has_spm_memory:  $(nodelist has_spm_memory)"
}

# Keep kernel info messages off the console (they stay in dmesg); warnings
# and worse still show, and spm-vm still fails the run on them.
dmesg -n 5

step "The emulated machine ($(uname -r), $(nproc) CPUs)"
say "kernel command line: $(cat /proc/cmdline)"
if [ "$MODE" = stock ]; then
	say "STOCK MODE: a kernel without SPM nodes; only the machine and the memory pressure, for comparison" \
	    "node 0, 1: CPU + 1 GiB each; node 2: 512 MiB, no CPU (ordinary memory on this kernel);" \
	    "node 3: 512 MiB legacy pmem carved out with memmap=, no CPU, no memory yet"
else
	say "node 0, 1: CPU + 1 GiB each; node 2: 512 MiB, no CPU (spm_nodes=2);" \
	    "node 3: 512 MiB legacy pmem carved out with memmap=, no CPU, no memory yet"
fi
show numactl --hardware

step "Node lists in $NODE"
lists

step "Per-node memory"
node_table

step "Node 3: the pmem carve-out, an nvdimm namespace"
show ndctl list -N

step "Node 3 through the real dax path: ndctl -> devdax -> daxctl -> dax/kmem"
spm_flag=
show ndctl create-namespace -f -e namespace0.0 -m devdax
if [ -e /sys/bus/dax/devices/dax0.0/spm_node ]; then
	show sh -c 'echo 1 > /sys/bus/dax/devices/dax0.0/spm_node'
	spm_flag=" (marked SPM)"
fi
show daxctl reconfigure-device --mode=system-ram dax0.0
say "dax0.0 is now system RAM on node $(cat /sys/bus/dax/devices/dax0.0/target_node)$spm_flag"
lists
node_table

step "Where does memory go? 64 MiB with numactl --membind=1"
show numactl --membind=1 memhog 64m
show numastat -n

# --- later demo steps go below this line ---------------------------------------

# The isolation story. Each step checks what it shows: a demo that prints
# a wrong picture must not pass, so a surprise ends it with "DEMO FAILED".

SPM_LIST=2-3		# node 2 from spm_nodes=2, node 3 through dax/kmem above
[ "$MODE" = stock ] && SPM_LIST=	# stock: every node is ordinary memory
WORK=/run/spm-demo	# a tmpfs of our own for the page-cache file
CG=/sys/fs/cgroup/spm-demo
BG=

fail() { printf '\n!!! DEMO FAILED: %s\n' "$*"; exit 1; }
ok() { printf '    -> %s\n' "$*"; }
cleanup() {
	[ -n "$BG" ] && { kill -9 "$BG"; wait "$BG"; } 2> /dev/null
	[ -d "$CG" ] && { echo $$ > /sys/fs/cgroup/cgroup.procs; rmdir "$CG"; } 2> /dev/null
	grep -q " $WORK " /proc/mounts && umount "$WORK"
	for f in "$NODE"/node*/spm/allow_user; do [ -e "$f" ] && echo 0 > "$f"; done
	return 0
}
trap cleanup EXIT

# in_list N LIST: is node N in a sysfs node list such as "0-1,3"?
in_list() {
	local r IFS=,
	for r in $2; do
		[ "$1" -ge "${r%-*}" ] && [ "$1" -le "${r#*-}" ] && return 0
	done
	return 1
}
nodes() { local d; for d in "$NODE"/node[0-9]*; do echo "${d##*node}"; done; }
mi() { awk -v k="$2:" '$3 == k { print $4 }' "$NODE/node$1/meminfo"; }	# kB
role() { if in_list "$1" "$SPM_LIST"; then echo SPM; else echo SysRAM; fi; }

# pcp NODE: kB of free pages parked on the node's per-cpu lists
pcp() {
	awk -v n="$1," '/^Node/ { on = ($2 == n) } on && $1 == "count:" { s += $2 } END { print s * 4 }' /proc/zoneinfo
}
# snap NAME: every node's MemUsed/FilePages/AnonPages/Slab, in kB. The
# per-cpu vmstat deltas are folded first (stat_refresh) so that the counters
# are exact, and MemUsed leaves out the free pages on per-cpu lists (after
# a process exits, they can hold tens of MB of a node's free memory).
declare -A SNAP
snap() {
	local n k
	echo 1 > /proc/sys/vm/stat_refresh 2> /dev/null || true
	for n in $(nodes); do
		for k in FilePages AnonPages Slab; do SNAP[$1.$n.$k]=$(mi "$n" "$k"); done
		SNAP[$1.$n.MemUsed]=$(( $(mi "$n" MemUsed) - $(pcp "$n") ))
	done
}
# table NAME [BASE]: the snapshot in MB, with the change from BASE
table() {
	local n k v d
	printf '    %-4s %-7s' node role
	for k in MemUsed FilePages AnonPages Slab; do printf ' %15s' "$k MB"; done
	printf '\n'
	for n in $(nodes); do
		printf '    %-4s %-7s' "$n" "$(role "$n")"
		for k in MemUsed FilePages AnonPages Slab; do
			v=${SNAP[$1.$n.$k]}
			if [ -n "${2:-}" ]; then
				d=$(( (v - SNAP[$2.$n.$k]) / 1024 ))
				printf ' %7d (%+5d)' $((v / 1024)) "$d"
			else
				printf ' %15d' $((v / 1024))
			fi
		done
		printf '\n'
	done
}
# delta A B NODE KEY (kB)
delta() { echo $(( SNAP[$2.$3.$4] - SNAP[$1.$3.$4] )); }
# record PHASE: with --record, every node's meminfo as "NODES PHASE ..."
# lines (see the header). Call it right after snap, which folds the per-cpu
# vmstat counters. One awk reads /proc/zoneinfo (the per-cpu free lists)
# and every nodeN/meminfo, so the two are read within microseconds of each
# other: the script's own forks move pages on and off those lists.
record() {
	[ -n "$REC" ] || return 0
	local n kinds='' files=()
	for n in $(nodes); do
		kinds="$kinds $n=$(role "$n")"
		files+=("$NODE/node$n/meminfo")
	done
	awk -v ph="$1" -v mode="$MODE" -v kinds="$kinds" '
		FILENAME == "/proc/zoneinfo" {
			if ($1 == "Node") { sub(",", "", $2); zn = $2 }
			else if ($1 == "count:") pcp[zn] += $2 * 4
			next
		}
		FNR == 1 { n = $2; nn[++cnt] = n }
		$3 == "MemTotal:" { t[n] = $4 } $3 == "MemFree:" { f[n] = $4 }
		$3 == "AnonPages:" { a[n] = $4 } $3 == "FilePages:" { p[n] = $4 }
		END {
			split(kinds, kv, " ")
			for (i in kv) { split(kv[i], x, "="); kind[x[1]] = x[2] }
			for (i = 1; i <= cnt; i++) {
				n = nn[i]
				printf "NODES %s mode=%s node=%s kind=%s MemTotal=%d MemFree=%d AnonPages=%d FilePages=%d PcpFree=%d\n",
					ph, mode, n, kind[n], t[n], f[n], a[n], p[n], pcp[n] + 0
			}
		}' /proc/zoneinfo "${files[@]}" >> "$REC"
}

# run 'CMD': show a shell command line, then run it
run() { printf '$ %s\n' "$1"; eval "$1" 2>&1 | sed 's/^/    /'; }
# must 'CMD': like run, but the demo fails when CMD fails
must() {
	local out rc=0
	printf '$ %s\n' "$1"
	out=$(eval "$1" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	[ "$rc" -eq 0 ] || fail "'$1' failed (exit $rc)"
}

# hold MB 'CMD': start CMD (which ends up exec'ing a memory hog of MB MiB)
# in the background and wait until it has touched 95% of it; $BG is its pid.
hold() {
	local mb=$1 cmd=$2 i rss
	printf '$ %s &\n' "$cmd"
	( eval "exec $cmd" ) > /dev/null 2>&1 &
	BG=$!
	for i in $(seq 600); do
		kill -0 "$BG" 2> /dev/null || { wait "$BG" || true; BG=; fail "'$cmd' ended early"; }
		rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$BG/status" 2> /dev/null)
		[ "${rss:-0}" -ge $((mb * 1024 * 95 / 100)) ] && return 0
		sleep 0.2
	done
	fail "'$cmd' did not reach $mb MiB in 120 s"
}
release() { printf '$ kill %s\n' "$BG"; kill -9 "$BG"; wait "$BG" 2> /dev/null || true; BG=; }

# ------------------------------------------------------------------------------
if [ "$MODE" = spm ]; then
step "Which nodes are SPM"
say "has_spm_memory lists the nodes that no default allocation may use; each has an owner and an allow_user switch."
got=$(nodelist has_spm_memory)
[ "$got" = "$SPM_LIST" ] || fail "has_spm_memory is '$got', expected $SPM_LIST (node 2 from spm_nodes=2, node 3 from dax0.0 with spm_node=1)"
for n in $(nodes); do
	if in_list "$n" "$SPM_LIST"; then
		say "node $n: SPM     owner=$(cat "$NODE/node$n/spm/owner")  allow_user=$(cat "$NODE/node$n/spm/allow_user")  MemTotal $(( $(mi "$n" MemTotal) / 1024 )) MB"
	else
		say "node $n: SysRAM  cpus=$(cat "$NODE/node$n/cpulist")  MemTotal $(( $(mi "$n" MemTotal) / 1024 )) MB"
	fi
done
ok "has_spm_memory = $got: node 2 (boot, spm_nodes=2) and node 3 (ndctl -> daxctl -> dax/kmem with spm_node=1)"
fi

# ------------------------------------------------------------------------------
step "General-purpose pressure: 1.2 GB of page cache plus an anonymous hog"
if [ "$MODE" = stock ]; then
	say "Stock kernel: nodes 2 and 3 are ordinary memory nodes without CPUs. Shown, not checked: where does the workload go?"
else
	say "Default allocations fill nodes 0 and 1 and never fall back to an SPM node, however full SysRAM gets."
fi
sync; echo 3 > /proc/sys/vm/drop_caches
snap before
record before
say "" "Per node, before (MemUsed leaves out free pages parked on per-cpu lists):"
table before
# free on nodes 0-1, with the free pages parked on per-cpu lists
sysfree=$(( ($(mi 0 MemFree) + $(pcp 0) + $(mi 1 MemFree) + $(pcp 1)) / 1024 ))
file_mb=1200
[ "$sysfree" -gt $((file_mb + 400)) ] || fail "only $sysfree MB free on SysRAM"
say "SysRAM free: $sysfree MB. Both writers run on CPU 1: once node 1 is full, a stock kernel's next stop is node 2."
mkdir -p "$WORK"
run "mount -t tmpfs -o size=$((file_mb + 64))m tmpfs $WORK"
run "numactl --physcpubind=1 dd if=/dev/zero of=$WORK/big bs=1M count=$file_mb"
# The hog: what nodes 0-1 had free before the file, less the file and
# 300 MB (tmpfs pages cannot be reclaimed without swap: keep well clear of
# the OOM killer), at most 400 MB, and never more than what is free after
# the file less 300 MB; rounded down to 32 MB. Counted from before the
# file, it has the same size on a stock kernel, where part of the file may
# go to nodes 2-3 (demo/run compares the two).
left=$(( ($(mi 0 MemFree) + $(pcp 0) + $(mi 1 MemFree) + $(pcp 1)) / 1024 ))
hog=$(( sysfree - file_mb - 300 ))
[ "$hog" -gt $((left - 300)) ] && hog=$((left - 300))
[ "$hog" -gt 400 ] && hog=400
hog=$(( hog / 32 * 32 ))
[ "$hog" -ge 64 ] || fail "only $left MB of SysRAM left after the file"
say "SysRAM free after the file: $left MB. The hog: $hog MB (SysRAM free before the file less the file and 300 MB, at most 400 MB," \
    "in 32 MB steps: no swap, stay clear of OOM; the same size on a stock kernel, where part of the file may go to nodes 2-3)."
hold "$hog" "numactl --physcpubind=1 memhog -r1000000 ${hog}M"
snap during
record after
[ -z "$REC" ] || printf 'NODES workload file_mb=%d hog_mb=%d\nNODES done\n' "$file_mb" "$hog" >> "$REC"
say "" "Per node, under pressure (change since before the file):"
table during before
if [ "$MODE" = stock ]; then
	f23=0 a23=0 u23=0
	for n in $(nodes); do
		[ "$n" -ge 2 ] || continue
		f23=$(( f23 + $(delta before during "$n" FilePages) ))
		a23=$(( a23 + $(delta before during "$n" AnonPages) ))
		u23=$(( u23 + $(delta before during "$n" MemUsed) ))
	done
	say "" "Stock: nodes 2-3 took $((u23 / 1024)) MB of the workload (page cache $((f23 / 1024)) MB, anonymous $((a23 / 1024)) MB)" \
	    "of the ${file_mb} MB file and the ${hog} MB hog."
	release
	run "rm $WORK/big; umount $WORK"
	step "Done (stock mode)"
	say "The patched kernel runs the same machine and pressure with nodes 2 and 3 as SPM nodes (demo/run: side by side)."
	exit 0
fi
bad=
for n in $(nodes); do
	in_list "$n" "$SPM_LIST" || continue
	for k in FilePages AnonPages Slab; do
		d=$(delta before during "$n" "$k")
		[ "$d" -eq 0 ] || bad="$bad node$n $k +${d}kB;"
	done
	d=$(delta before during "$n" MemUsed)
	[ "$d" -le 2048 ] || bad="$bad node$n MemUsed +${d}kB;"
done
[ -z "$bad" ] || fail "pages of the workload on SPM nodes:$bad"
f01=$(( $(delta before during 0 FilePages) + $(delta before during 1 FilePages) ))
a01=$(( $(delta before during 0 AnonPages) + $(delta before during 1 AnonPages) ))
[ "$f01" -ge $((file_mb * 1024 * 95 / 100)) ] || fail "the file is not on SysRAM (FilePages +$((f01 / 1024)) MB on nodes 0-1)"
[ "$a01" -ge $((hog * 1024 * 90 / 100)) ] || fail "the hog is not on SysRAM (AnonPages +$((a01 / 1024)) MB on nodes 0-1)"
ok "nodes 0-1: +$((f01 / 1024)) MB page cache, +$((a01 / 1024)) MB anonymous; nodes 2-3: FilePages/AnonPages/Slab +0 kB"
say "For comparison, make demo (demo/run) runs this same pressure on the stock kernel first, with nodes 2 and 3" \
    "as plain CPU-less nodes, and prints both runs side by side at the end."
release
run "rm $WORK/big; umount $WORK"

# ------------------------------------------------------------------------------
step "Explicit placement: numactl --membind onto an SPM node"
say "MPOL_BIND may name an SPM node only when its owner allows user placement (allow_user=1); otherwise EPERM."
say "A task is told only the nodes it may use: Mems_allowed leaves node 2 out, so numactl refuses it as out of range."
AU=$NODE/node2/spm/allow_user
run "cat $AU"
run "grep Mems_allowed_list /proc/self/status"
printf '$ %s\n' "numactl --membind=2 memhog 64M"
rc=0; out=$(numactl --membind=2 memhog 64M 2>&1 | head -2) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
say "numactl --all skips libnuma's own check; the kernel refuses:"
printf '$ %s\n' "numactl --all --membind=2 memhog 64M"
rc=0; out=$(numactl --all --membind=2 memhog 64M 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
say "exit status $rc"
case "$rc:$out" in
[1-9]*:*"Operation not permitted"*) ok "refused with EPERM while allow_user=0" ;;
*) fail "numactl --all --membind=2 with allow_user=0: exit $rc, expected EPERM" ;;
esac
run "echo 1 > $AU"
run "grep Mems_allowed_list /proc/self/status"
snap p0
hold 64 "numactl --membind=2 memhog -r1000000 64M"
snap p1
say "Per node, with the bound hog running (change since before it):"
table p1 p0
release
snap p2
say "Per node, after it exited:"
table p2 p0
d1=$(delta p0 p1 2 AnonPages) d2=$(delta p0 p2 2 AnonPages)
[ "$d1" -ge $((64 * 1024 * 95 / 100)) ] || fail "node 2 AnonPages grew by only $d1 kB under --membind=2"
[ "$d2" -eq 0 ] || fail "node 2 AnonPages still +$d2 kB after the hog exited"
ok "node 2 AnonPages +$((d1 / 1024)) MB while bound there, back to +0 after exit"

say "" "numactl --interleave=all: other policy modes are narrowed to SysRAM, even with allow_user=1."
snap i0
hold 64 "numactl --interleave=all memhog -r1000000 64M"
snap i1
table i1 i0
release
i0a=$(delta i0 i1 0 AnonPages) i1a=$(delta i0 i1 1 AnonPages)
bad=
for n in $(nodes); do
	in_list "$n" "$SPM_LIST" || continue
	d=$(delta i0 i1 "$n" AnonPages)
	[ "$d" -eq 0 ] || bad="$bad node$n +${d}kB"
done
[ -z "$bad" ] || fail "--interleave=all put anonymous pages on SPM nodes:$bad"
[ "$i0a" -ge $((16 * 1024)) ] && [ "$i1a" -ge $((16 * 1024)) ] ||
	fail "--interleave=all did not spread over nodes 0 and 1 (+$i0a kB, +$i1a kB)"
ok "interleaved over node 0 (+$((i0a / 1024)) MB) and node 1 (+$((i1a / 1024)) MB); nodes 2-3 +0"
run "echo 0 > $AU"

# ------------------------------------------------------------------------------
step "cgroup v2: cpuset.mems.sysram"
say "Read-only: the cpuset's effective mems that are SysRAM, i.e. where its tasks' default allocations may go."
run "grep . /sys/fs/cgroup/cpuset.mems.effective /sys/fs/cgroup/cpuset.mems.sysram"
[ "$(cat /sys/fs/cgroup/cpuset.mems.sysram)" = 0-1 ] || fail "root cpuset.mems.sysram is not 0-1"
mkdir "$CG"
run "echo 1-2 > $CG/cpuset.mems"
run "grep . $CG/cpuset.mems.effective $CG/cpuset.mems.sysram"
[ "$(cat "$CG/cpuset.mems.sysram")" = 1 ] || fail "cpuset.mems.sysram of a cpuset with mems 1-2 is not 1"
say "A task in this cpuset may still bind to node 2 (when allowed), but its default allocations use node 1 only:"
snap c0
hold 64 "sh -c 'echo \$\$ > $CG/cgroup.procs && exec memhog -r1000000 64M'"
snap c1
table c1 c0
release
c1a=$(delta c0 c1 1 AnonPages) c2a=$(delta c0 c1 2 AnonPages)
[ "$c1a" -ge $((64 * 1024 * 95 / 100)) ] && [ "$c2a" -eq 0 ] ||
	fail "default-policy hog in cpuset 1-2: node 1 +$c1a kB, node 2 +$c2a kB"
ok "a 64 MB default-policy hog in the cpuset: node 1 +$((c1a / 1024)) MB, node 2 +0"
rmdir "$CG"

# ------------------------------------------------------------------------------
step "An accelerator owns node 2 (drivers/spm_accel)"
say "The driver claims the node and grants user placement, migration, reclaim and compaction." \
    "Driver-owned memory: /dev/spm_accel faults pages in from node 2 with __GFP_SPM_NODE and hands" \
    "them between CPU and device by removing the CPU's page-table entries (a CPU access is SIGBUS)."
run "modprobe spm_accel nid=2"
run "grep . /sys/devices/system/node/node2/spm/owner /sys/devices/system/node/node2/spm/caps"
[ "$(cat /sys/devices/system/node/node2/spm/owner)" = spm_accel ] || fail "spm_accel does not own node 2"
must "spm-accel owned 64"
ok "64 device pages on node 2; device and CPU checksums agree; CPU access to device-owned pages is SIGBUS"
say "Managed memory: ordinary anonymous pages bound to node 2, mirrored by the device with" \
    "hmm_range_fault; a migration invalidates the device's view and the device faults again."
must "spm-accel managed 64"
ok "after move_pages to node 0 the device re-faulted and saw node 0, same checksum"
run "rmmod spm_accel && cat /sys/devices/system/node/node2/spm/caps"

# ------------------------------------------------------------------------------
step "A compressed-RAM device owns node 3 (drivers/spm_cram)"
say "It emulates a device whose physical capacity is smaller than the node: every folio that" \
    "arrives by demotion is compressed with LZ4 and accounted against a 128 MB budget. It grants" \
    "reclaim, demotion and the write fence, but no user placement: data only arrives by demotion," \
    "stays mapped read-only, and a write promotes the page back to SysRAM."
run "echo true > /sys/kernel/mm/numa/demotion_enabled; echo 0 > /proc/sys/kernel/numa_balancing"
run "modprobe spm_cram nid=3"
run "grep . /sys/devices/system/node/node3/spm/owner /sys/devices/system/node/node3/spm/caps"
say "32 MB of data that LZ4 compresses about 2.9:1, pushed out of node 0 by memory.reclaim," \
    "read back, then 25% of it rewritten:"
printf '$ %s\n' "spm-cram-load -m 32 -k 1365 -w 25"
cram_out=$(spm-cram-load -m 32 -k 1365 -w 25 2>&1) || fail "spm-cram-load failed: $cram_out"
cv() { printf '%s\n' "$cram_out" | sed -n "s/^$1=//p" | tail -1; }
printf '%s\n' "$cram_out" | grep -E '^(pages|expected_ratio|demote\.node[0-3]|demote\.cram\.(logical_bytes|physical_bytes|ratio)|read\.(minflt|majflt|checksum_bad)|write0\.(pages|moved_to_sysram|still_on_target|checksum_bad)|final\.cram\.(physical_bytes|ratio|fenced_writes|promotions)|final\.checksum_bad)=' |
	sed 's/^/    /'
[ "$(cv demote.target)" -ge $(( $(cv pages) * 9 / 10 )) ] || fail "less than 90% of the data was demoted to node 3"
[ "$(cv demote.node2)" -eq 0 ] || fail "demotion put pages on node 2, which does not take demotion"
[ "$(cv read.minflt)" -eq 0 ] && [ "$(cv read.majflt)" -eq 0 ] || fail "reading demoted data faulted"
[ "$(cv write0.still_on_target)" -eq 0 ] || fail "written pages stayed on the compressed node"
[ "$(cv final.checksum_bad)" -eq 0 ] || fail "data changed"
ok "$(cv demote.target) of $(cv pages) pages demoted to node 3 at ratio $(cv demote.cram.ratio) (data: $(cv expected_ratio));" \
   "read back with 0 faults; every written page moved to SysRAM; ratio after the writes $(cv final.cram.ratio)"
run "rmmod spm_cram && cat /sys/devices/system/node/node3/spm/caps"

step "Done"
say "Nodes 2 and 3 stayed untouched by page cache, anonymous memory, slab and interleaving;" \
    "only explicit, permitted requests placed memory there: MPOL_BIND when allowed, a driver's" \
    "__GFP_SPM_NODE faults, and demotion into the node whose owner asked for it."
