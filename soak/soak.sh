#!/bin/bash
# Guest side of the soak (soak/run hands it to the VM as /add/soak.sh):
#
#   soak.sh SECONDS SEED SCALE [spm-soak options]...
#
# Node 3 onlined as an SPM node through dax (spm-setup-pmem --spm), zram
# swap, demotion on, spm_cram owning node 3 with its defaults; then
# /add/spm-soak, whose TAP goes to the console and to /dev/ttyS1 (the
# host's --serial2 file, free of kernel messages).
set -u

secs=${1:?usage: soak.sh SECONDS SEED SCALE [options]}
seed=${2:?}
scale=${3:?}
shift 3
out=/dev/ttyS1

bail() {
	printf 'TAP version 13\nBail out! setup: %s\n' "$*" | tee "$out"
	exit 1
}

spm-setup-pmem --spm || bail "spm-setup-pmem --spm"
spm-setup-swap 512M || bail "spm-setup-swap 512M"
echo true > /sys/kernel/mm/numa/demotion_enabled || bail "demotion_enabled"
modprobe spm_cram || bail "modprobe spm_cram"
echo "soak: kernel $(uname -r), SPM nodes $(cat /sys/devices/system/node/has_spm_memory)," \
	"numa_balancing $(cat /proc/sys/kernel/numa_balancing)," \
	"THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"

/add/spm-soak -t "$secs" -s "$seed" -x "$scale" "$@" 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
