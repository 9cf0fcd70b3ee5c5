#!/bin/bash
# Node removal and hot-add against the spm/ sysfs files: node 3's memory
# is taken away (daxctl back to devdax, which unregisters the memoryless
# node and its spm/ directory) and onlined again as SPM through dax/kmem
# with spm_node=1, over and over, while readers and writers hammer every
# file of node 3's spm/ directory.  A removal that waited for a sysfs
# handler while holding the lock the handler needs would hang here (and
# lockdep on the debug kernel names any inverted lock order, including the
# static key enabled from the latch against node registration).
. /spm/lib/tap.sh

N=/sys/devices/system/node
DAX=/sys/bus/dax/devices/dax0.0
ROUNDS=${SPM_HOTPLUG_ROUNDS:-8}

tap_plan 7

tap_is "node 3 starts as an SPM node with memory" 2-3 "$(cat $N/has_spm_memory)"
tap_is "the dax device asks for an SPM node" 1 "$(cat $DAX/spm_node)"

stop=/tmp/spm-hotplug-stop
rm -f "$stop"
hammer() {
	local n=0
	while [ ! -e "$stop" ]; do
		cat $N/node3/spm/owner $N/node3/spm/caps $N/node3/spm/allow_user \
			>/dev/null 2>&1
		echo "$1" > $N/node3/spm/allow_user 2>/dev/null
		echo 1 > $N/node3/spm/reclaim 2>/dev/null
		cat $N/has_spm_memory $N/node3/meminfo >/dev/null 2>&1
		n=$((n + 1))
	done
	echo "$n" > "/tmp/spm-hotplug-hammer-$BASHPID"
}
rm -f /tmp/spm-hotplug-hammer-*
hammer 0 & h1=$!
hammer 1 & h2=$!
hammer 0 & h3=$!

removed=0 added=0 gone=0 errs=
for i in $(seq 1 "$ROUNDS"); do
	if out=$(daxctl reconfigure-device --mode=devdax -f dax0.0 2>&1); then
		removed=$((removed + 1))
		[ "$(cat $N/has_spm_memory)" = 2 ] && [ ! -d $N/node3/spm ] &&
			gone=$((gone + 1))
	else
		errs="$errs; round $i devdax: $out"
	fi
	if out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1); then
		added=$((added + 1))
	else
		errs="$errs; round $i system-ram: $out"
	fi
done
touch "$stop"
wait $h1 $h2 $h3
calls=$(cat /tmp/spm-hotplug-hammer-* 2>/dev/null | awk '{s += $1} END {print s + 0}')
tap_diag "$ROUNDS rounds: $removed removals, $added hot-adds, node 3 gone $gone times; $calls sysfs rounds by 3 hammers"
[ -n "$errs" ] && tap_diag "errors:$errs"

tap_is "every removal and hot-add succeeded" "$ROUNDS $ROUNDS" "$removed $added"
tap_is "node 3 and its spm/ directory were gone after each removal" "$ROUNDS" "$gone"
tap_between "the hammers ran throughout" 100 100000000 "$calls"
tap_is "node 3 is an SPM node with memory again" 2-3 "$(cat $N/has_spm_memory)"
echo 0 > $N/node3/spm/allow_user
tap_is "node 3's spm/ files work (owner, allow_user)" "none 0" \
	"$(cat $N/node3/spm/owner) $(cat $N/node3/spm/allow_user)"

tap_done
