#!/bin/sh
# Guest side of the benchmarks (bench/run copies it to /add/bench/ with
# pf_bench and spm_alloc_bench.ko built for the booted kernel; bench/accel
# with pf_bench and spm_accel.ko).
#
#   guest.sh RUNS PF_ITERS ALLOC_ITERS STEP...
#
# Steps, run in order:
#   info          print the node lists the kernel sees (BENCH info ...)
#   allow:N       echo 1 > /sys/devices/system/node/nodeN/spm/allow_user
#   pf:N          fault loop, numactl --cpunodebind=0 --membind=N (pages checked on N)
#   pf:local      fault loop, numactl --cpunodebind=0 only (default memory policy)
#   pfb:N         fault loop, numactl --cpunodebind=0, each mapping mbind()ed
#                 (MPOL_BIND) to node N (pages checked on N)
#   accel         insmod spm_accel.ko user=1 (it claims node 2, see
#                 drivers/spm_accel)
#   pfdev:N       fault loop on mappings of /dev/spm_accel, numactl
#                 --cpunodebind=0 (node N, the device's: the driver checks
#                 every page it allocates, see accelstat's misplaced)
#   accelstat     the device's counters (BENCH accelstat ...); fails if a
#                 device page is still allocated or an allocation failed
#   alloc         insmod spm_alloc_bench, one warm-up read, then RUNS reads
#                 of its debugfs file, numactl --cpunodebind=0
# Every result is a line starting with "BENCH "; any failure exits non-zero.
set -e
runs=${1:?usage: guest.sh RUNS PF_ITERS ALLOC_ITERS STEP...}
pf_iters=${2:?}
alloc_iters=${3:?}
shift 3
here=$(dirname "$0")
node_sys=/sys/devices/system/node

list() { if [ -r "$1" ]; then cat "$1"; else echo "-"; fi; }

for step in "$@"; do
	case "$step" in
	info)
		echo "BENCH info kernel=$(uname -r) online=$(list $node_sys/online)" \
			"has_memory=$(list $node_sys/has_memory)" \
			"has_cpu=$(list $node_sys/has_cpu)" \
			"has_spm_memory=$(list $node_sys/has_spm_memory)"
		;;
	allow:*)
		echo 1 > "$node_sys/node${step#allow:}/spm/allow_user"
		echo "BENCH allow node=${step#allow:} allow_user=$(cat "$node_sys/node${step#allow:}/spm/allow_user")"
		;;
	pf:local)
		numactl --cpunodebind=0 "$here/pf_bench" -i "$pf_iters" -r "$runs" -t local
		;;
	pfb:*)
		n=${step#pfb:}
		numactl --cpunodebind=0 \
			"$here/pf_bench" -i "$pf_iters" -r "$runs" -b "$n" -n "$n" -t "mbind$n"
		;;
	accel)
		insmod "$here/spm_accel.ko" user=1
		n=$(cat /sys/class/misc/spm_accel/nid)
		echo "BENCH accel node=$n owner=$(cat "$node_sys/node$n/spm/owner")" \
			"caps=$(cat "$node_sys/node$n/spm/caps" | tr ' ' ,)"
		;;
	pfdev:*)
		n=${step#pfdev:}
		numactl --cpunodebind=0 \
			"$here/pf_bench" -i "$pf_iters" -r "$runs" -d /dev/spm_accel -n "$n" -t "dev$n"
		;;
	accelstat)
		a=/sys/class/misc/spm_accel
		echo "BENCH accelstat pages=$(cat $a/pages) faults=$(cat $a/faults)" \
			"alloc_failures=$(cat $a/alloc_failures) misplaced=$(cat $a/misplaced)"
		if [ "$(cat $a/pages)" != 0 ] || [ "$(cat $a/alloc_failures)" != 0 ] ||
		   [ "$(cat $a/misplaced)" != 0 ]; then
			echo "guest.sh: spm_accel: pages left or allocations failed" >&2
			exit 1
		fi
		;;
	pf:*)
		n=${step#pf:}
		numactl --cpunodebind=0 --membind="$n" \
			"$here/pf_bench" -i "$pf_iters" -r "$runs" -n "$n" -t "node$n"
		;;
	alloc)
		insmod "$here/spm_alloc_bench.ko" iters="$alloc_iters"
		f=/sys/kernel/debug/spm_alloc_bench/run
		numactl --cpunodebind=0 cat "$f" > /dev/null
		r=1
		while [ "$r" -le "$runs" ]; do
			numactl --cpunodebind=0 cat "$f" > /tmp/alloc.out
			if grep -q error /tmp/alloc.out; then
				cat /tmp/alloc.out >&2
				exit 1
			fi
			sed "s/^/BENCH alloc run=$r kind=/" /tmp/alloc.out
			r=$((r + 1))
		done
		rmmod spm_alloc_bench
		;;
	*)
		echo "guest.sh: unknown step '$step'" >&2
		exit 2
		;;
	esac
done
