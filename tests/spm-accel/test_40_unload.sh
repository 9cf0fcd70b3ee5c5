#!/bin/bash
# The module cannot go while a file of the device is open; once the file is
# closed it unloads, node 2 has no owner again, and the memory the device
# had on node 2 is back (MemUsed less the per-cpu free lists as before,
# less the device's reserve, which goes with the module).
. /spm/lib/tap.sh

N=/sys/devices/system/node/node2/spm
M=/sys/class/misc/spm_accel
HOLD=16384	# pages (64 MiB)

tap_plan 14

# node 2 MemUsed less the pages in its per-cpu free lists, in kB
used_kb() {
	local pcp
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	pcp=$(node_pcp_kb 2)
	echo $(( $(node_meminfo 2 MemUsed) - pcp ))
}

[ -e /sys/module/spm_accel ] || modprobe spm_accel
before=$(used_kb)
reserve_kb=$(( $(cat $M/reserve 2>/dev/null || echo 0) * 4 ))

spm-accel hold $HOLD > /tmp/hold.out 2>&1 &
holder=$!
for i in $(seq 60); do
	[ "$(cat $M/pages 2>/dev/null)" = $HOLD ] && break
	sleep 1
done
tap_is "the holder has $HOLD device pages" $HOLD "$(cat $M/pages 2>&1)"
tap_is "the open file pins the module (refcnt)" 1 "$(cat /sys/module/spm_accel/refcnt 2>&1)"
held=$(used_kb)
tap_between "node 2 MemUsed grew by the held pages (kB)" $((HOLD * 4 - 1024)) $((HOLD * 4 + 8192)) $((held - before))

out=$(rmmod spm_accel 2>&1)
rc=$?
case "$rc:$out" in
0:*) tap_fail "rmmod with the device open fails" "rmmod succeeded" ;;
*"in use"*) tap_ok "rmmod with the device open fails: in use" ;;
*) tap_fail "rmmod with the device open fails: in use" "rc $rc: $out" ;;
esac
tap_check "the module is still loaded" test -e /sys/module/spm_accel
tap_is "node 2 still owned" spm_accel "$(cat $N/owner 2>&1)"

kill $holder
wait $holder 2>/dev/null
tap_is "closing the file frees the pages" 0 "$(cat $M/pages 2>&1)"
tap_is "refcnt back to 0" 0 "$(cat /sys/module/spm_accel/refcnt 2>&1)"
tap_check "rmmod after close" rmmod spm_accel
tap_check "/dev/spm_accel is gone" test ! -e /dev/spm_accel
tap_is "node 2 owner after unload" none "$(cat $N/owner 2>&1)"
tap_is "node 2 caps after unload" "reclaim compaction longterm_pin" "$(cat $N/caps 2>&1)"
after=$(used_kb)
tap_between "node 2 MemUsed back to where it was less the reserve (kB, before $before, reserve $reserve_kb)" \
	$((before - reserve_kb - 2048)) $((before - reserve_kb + 2048)) "$after"
tap_check "the kernel log says the node was released" sh -c 'dmesg | grep -q "node 2 released by spm_accel"'

tap_done
