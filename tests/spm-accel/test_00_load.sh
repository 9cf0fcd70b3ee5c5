#!/bin/bash
# Loading spm_accel: it claims node 2 or refuses to load with the errno of
# spm_node_claim(); the capabilities it turns on follow its user= parameter;
# unloading gives the node back with the unowned defaults. Leaves the
# module loaded (user=1) for the later programs of the suite.
. /spm/lib/tap.sh

N=/sys/devices/system/node/node2/spm
M=/sys/class/misc/spm_accel

tap_plan 21

# load_err ARGS: the error text modprobe prints, or "ok".
load_err() {
	local out
	out=$(modprobe spm_accel "$@" 2>&1) && { echo ok; return; }
	echo "${out##*: }"
}

tap_check "spm_accel is not loaded at boot" test ! -e /sys/module/spm_accel
tap_is "node 2 unowned at boot" none "$(cat $N/owner 2>&1)"
tap_is "nid=0 (SysRAM node): ENODEV" "No such device" "$(load_err nid=0)"
tap_is "nid=3 (offline, not SPM): ENODEV" "No such device" "$(load_err nid=3)"
tap_is "nid=-1: ENODEV" "No such device" "$(load_err nid=-1)"
tap_check "no module left behind by the failed loads" test ! -e /sys/module/spm_accel

tap_is "user=0 loads" ok "$(load_err user=0)"
tap_is "user=0: owner" spm_accel "$(cat $N/owner 2>&1)"
tap_is "user=0: caps" "reclaim compaction" "$(cat $N/caps 2>&1)"
tap_is "user=0: allow_user reads 0" 0 "$(cat $N/allow_user 2>&1)"
# libnuma checks Mems_allowed, which leaves out node 2; --all skips that
# check, and the kernel refuses.
out=$(numactl --all --membind=2 true 2>&1)
case "$?:$out" in
0:*) tap_fail "user=0: numactl --membind=2 is refused" "it ran" ;;
*"not permitted"*) tap_ok "user=0: numactl --membind=2 is refused (EPERM)" ;;
*) tap_fail "user=0: numactl --membind=2 is refused (EPERM)" "$out" ;;
esac
tap_is "allow_user cannot be written while owned (EBUSY)" \
	"Device or resource busy" "$(try_write $N/allow_user 1)"
tap_check "/dev/spm_accel is a character device" test -c /dev/spm_accel
tap_is "sysfs nid" 2 "$(cat $M/nid 2>&1)"
tap_check "rmmod" rmmod spm_accel
tap_is "released: owner" none "$(cat $N/owner 2>&1)"
tap_is "released: unowned caps" "reclaim compaction longterm_pin" "$(cat $N/caps 2>&1)"

tap_is "user=1 (default) loads" ok "$(load_err)"
tap_is "user=1: caps" "user reclaim compaction migration" "$(cat $N/caps 2>&1)"
tap_is "user=1: allow_user reads 1" 1 "$(cat $N/allow_user 2>&1)"
tap_check "user=1: numactl --membind=2 runs" numactl --membind=2 true

tap_done
