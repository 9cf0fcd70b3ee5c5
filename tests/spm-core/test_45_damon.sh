#!/bin/bash
# DAMON's physical-address schemes migrate_cold and migrate_hot with
# target_nid = the SPM node (unowned: it takes no demotion): DAMON tries
# (its scheme statistics count the regions and bytes it tried), but no page
# lands on the SPM node, whose FilePages, Shmem and AnonPages do not move.
# On a kernel without the series the same schemes fill the node.
. /spm/lib/tap.sh

SPM=${SPM_NODE:-2}
D=/sys/kernel/mm/damon/admin/kdamonds
COLD=/tmp/spm-damon-cold

cleanup() {
	[ -e $D/0/state ] && echo off > $D/0/state 2>/dev/null
	[ -e $D/nr_kdamonds ] && echo 0 > $D/nr_kdamonds 2>/dev/null
	rm -f $COLD
	[ -n "$hog" ] && kill -9 "$hog" 2>/dev/null
}
hog=
trap cleanup EXIT

tap_plan 6
if [ ! -d $D ]; then
	for i in 1 2 3 4 5 6; do tap_skip "DAMON scheme $i" "no DAMON sysfs (CONFIG_DAMON_SYSFS)"; done
	exit 0
fi

# The largest System RAM range below 4 GiB: nodes 0 and 1 of the VM.
best=0
while IFS=' :-' read -r s e _ rest; do
	[ "$rest" = "RAM" ] || continue
	s=$((16#$s)); e=$((16#$e + 1))
	[ $e -le $((1 << 32)) ] && [ $((e - s)) -gt $best ] && { best=$((e - s)); start=$s; end=$e; }
done < <(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : \(System\) \(RAM\)$/\1 \2 \3 \4/p' /proc/iomem)
tap_diag "monitoring physical $(printf '%#x-%#x' "$start" "$end")"

# Cold page cache (tmpfs) and anonymous memory on SysRAM.
dd if=/dev/urandom of=$COLD bs=1M count=48 2>/dev/null
memhog -r1000000 32m > /dev/null 2>&1 &
hog=$!
sleep 1

w() { echo "$2" > "$1" || echo "# write $2 > $1 failed" >&2; }
w $D/nr_kdamonds 1
w $D/0/contexts/nr_contexts 1
C=$D/0/contexts/0
w $C/operations paddr
w $C/targets/nr_targets 1
w $C/targets/0/regions/nr_regions 1
w $C/targets/0/regions/0/start "$start"
w $C/targets/0/regions/0/end "$end"
w $C/schemes/nr_schemes 2
for i in 0 1; do
	S=$C/schemes/$i
	w $S/target_nid "$SPM"
	# Every range defaults to 0-0: open them up.
	w $S/access_pattern/sz/min 4096
	w $S/access_pattern/sz/max 18446744073709551615
	w $S/access_pattern/age/max 4294967295
done
w $C/schemes/0/action migrate_cold
w $C/schemes/0/access_pattern/nr_accesses/max 0
w $C/schemes/1/action migrate_hot
w $C/schemes/1/access_pattern/nr_accesses/min 1
w $C/schemes/1/access_pattern/nr_accesses/max 4294967295

before_f=$(node_meminfo "$SPM" FilePages)
before_s=$(node_meminfo "$SPM" Shmem)
before_a=$(node_meminfo "$SPM" AnonPages)
if ! echo on > $D/0/state; then
	for i in 1 2 3 4 5 6; do tap_fail "DAMON scheme $i" "kdamond did not start"; done
	exit 1
fi
sleep 8
w $D/0/state update_schemes_stats
tried_cold=$(cat $C/schemes/0/stats/sz_tried)
tried_hot=$(cat $C/schemes/1/stats/sz_tried)
applied_cold=$(cat $C/schemes/0/stats/sz_applied)
applied_hot=$(cat $C/schemes/1/stats/sz_applied)
w $D/0/state off
tap_diag "migrate_cold: tried $tried_cold bytes, applied $applied_cold" \
	 "migrate_hot: tried $tried_hot bytes, applied $applied_hot" \
	 "node $SPM FilePages $before_f -> $(node_meminfo "$SPM" FilePages) kB," \
	 "Shmem $before_s -> $(node_meminfo "$SPM" Shmem) kB, AnonPages $before_a -> $(node_meminfo "$SPM" AnonPages) kB"

tap_between "migrate_cold tried regions of SysRAM (bytes)" 1 999999999999 "$tried_cold"
tap_is "migrate_cold applied nothing to node $SPM (bytes)" 0 "$applied_cold"
tap_is "migrate_hot applied nothing to node $SPM (bytes)" 0 "$applied_hot"
tap_is "node $SPM FilePages unchanged (kB)" "$before_f" "$(node_meminfo "$SPM" FilePages)"
tap_is "node $SPM Shmem unchanged (kB)" "$before_s" "$(node_meminfo "$SPM" Shmem)"
tap_is "node $SPM AnonPages unchanged (kB)" "$before_a" "$(node_meminfo "$SPM" AnonPages)"
tap_done
