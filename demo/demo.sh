#!/bin/bash
# The project demo, run inside the VM by "make demo"
# (tools/spm-vm --add demo --exec 'bash /add/demo/demo.sh').
#
# Walks through the emulated machine: the NUMA topology, per-node memory,
# the SPM node lists, and node 3 coming online through the real dax path.
# Later work adds its own steps below the marked line.
set -euo pipefail

NODE=/sys/devices/system/node

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
say "node 0, 1: CPU + 1 GiB each; node 2: 512 MiB, no CPU (spm_nodes=2);" \
    "node 3: 512 MiB legacy pmem carved out with memmap=, no CPU, no memory yet"
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

step "Done"
