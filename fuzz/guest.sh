#!/bin/sh
# One configuration of make fuzz, in the VM (fuzz/run boots one VM per
# configuration, with nodes 0-1 SysRAM, 2 and 4 SPM from boot, 3 pmem):
#
#   sh /add/spm-fuzz/guest.sh unowned|owned SECONDS SEED [TAP_OUTPUT]
#
#   unowned  node 2 unowned, allow_user 0; spm_accel owns node 4 (user=0)
#   owned    node 3 onlined as SPM (spm-setup-pmem --spm) and owned by
#            spm_test_owner (caps user,reclaim,compaction,migration);
#            node 2 unowned with allow_user 1; spm_accel owns node 4 (user=1)
#
# Both: zram swap; checksummed data placed on SysRAM and on the SPM nodes
# user space may use (spm-fuzz-data keep; in the unowned configuration
# node 2 permits it just for the placement); then, for SECONDS, at once:
# trinity as nobody in the cgroup spm-fuzz-trinity on the syscalls the
# series touches, spm-fuzz files (sysfs and cgroup files, as root) and
# spm-fuzz ioctl (/dev/spm_accel, in the cgroup spm-fuzz-ioctl).  Then 13
# TAP results: 1 setup, 2 data placed, 3 trinity's summary, 4-5 the
# fuzzers' summaries (no broken rule), 6 the SPM nodes' use (net of the
# per-cpu lists) no higher than before the run, 7 the data intact, 8 the
# data where its policy allows, 9 with the data freed, the SPM nodes back
# to their use before it was placed, 10-11 default-policy allocations
# (root; nobody in the fuzzed cgroup) on SysRAM only, 12 the sysfs state,
# 13 no new taint flag.  TAP goes to TAP_OUTPUT (default stdout; fuzz/run
# gives /dev/ttyS1), progress to stdout.

config=${1:?usage: guest.sh unowned|owned SECONDS SEED [TAP_OUTPUT]}
secs=${2:?seconds}
seed=${3:?seed}
tapout=${4:-/dev/stdout}

B=/add/spm-fuzz
BIN=$B/bin
W=/tmp/spm-fuzz
NODE=/sys/devices/system/node
CG=/sys/fs/cgroup
NOBODY=65534
KEEP_MB=32
TRINITY_CHILDREN=4
TRINITY_CALLS="mbind set_mempolicy get_mempolicy set_mempolicy_home_node
	move_pages migrate_pages madvise mprotect mremap userfaultfd munmap fork"
# Growth of an SPM node's use (net of per-cpu lists) that still counts as
# "back to its pre-run value" (kB).
TOLERANCE_KB=${SPM_FUZZ_TOLERANCE_KB:-256}

exec 3>"$tapout"
n=0
failed=0
say() { echo "fuzz[$config]: $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&3; }
ok() {
	n=$((n + 1))
	echo "ok $n $1" >&3
	say "ok $n $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	[ $# -gt 1 ] && diag "$2"
	echo "not ok $n $1" >&3
	say "not ok $n $1"
}
result() {	# result STATUS DESC [DIAG]: ok when STATUS is 0
	if [ "$1" = 0 ]; then
		shift
		ok "$1"
	else
		shift
		notok "$@"
	fi
}

mkdir -p $W
echo "TAP version 13" >&3
echo "1..13" >&3

# --- the machine ----------------------------------------------------------
# trinity and the C library it needs (the loader and libc are already there
# for numactl; anything missing is copied to the same path).
(cd $B/root && find . -type f) | while read -r f; do
	t=/${f#./}
	[ -e "$t" ] && continue
	mkdir -p "$(dirname "$t")"
	cp "$B/root/$f" "$t"
done
echo "nobody:x:$NOBODY:$NOBODY:nobody:$W/trinity:/bin/sh" >> /etc/passwd
echo "nogroup:x:$NOBODY:" >> /etc/group
# trinity's userfaultfd calls may register kernel faults too
echo 1 > /proc/sys/vm/unprivileged_userfaultfd
spm-setup-swap 256M >/dev/null || say "no zram swap"
cat > $W/incg <<'EOF'
#!/bin/sh
# incg CGROUP CMD...: run CMD in the cgroup v2 folder CGROUP
cg=$1
shift
echo $$ > "$cg/cgroup.procs" || exit 1
exec "$@"
EOF
chmod 755 $W/incg
taint0=$(cat /proc/sys/kernel/tainted)

# --- 1. the configuration -------------------------------------------------
setup_err=
run() {		# run CMD...: remember a failure for the setup result
	out=$("$@" 2>&1) || setup_err="$setup_err
$*: $out"
}
case "$config" in
unowned)
	run modprobe spm_accel nid=4 user=0
	spm=2,4
	keep_nodes=0,1,2
	allow2=0
	accel_user=0
	;;
owned)
	run spm-setup-pmem --spm
	run modprobe spm_test_owner nid=3 caps=user,reclaim,compaction,migration
	run modprobe spm_accel nid=4 user=1
	spm=2,3,4
	keep_nodes=0,1,2,3,4
	allow2=1
	accel_user=1
	;;
*)
	echo "guest.sh: unknown configuration '$config'" >&2
	exit 2
	;;
esac
run sh -c "echo $allow2 > $NODE/node2/spm/allow_user"
spm_list=$(echo $spm | tr , ' ')

node_state() {		# one line per SPM node: owner, caps, allow_user
	for nid in $spm_list; do
		echo "node $nid: owner $(cat $NODE/node$nid/spm/owner 2>&1)," \
			"caps $(cat $NODE/node$nid/spm/caps 2>&1)," \
			"allow_user $(cat $NODE/node$nid/spm/allow_user 2>&1)"
	done
}
state0=$(node_state)
want_owner() {
	case "$config:$1" in
	*:2) echo none ;;
	owned:3) echo spm_test_owner ;;
	*:4) echo spm_accel ;;
	esac
}
for nid in $spm_list; do
	o=$(cat $NODE/node$nid/spm/owner 2>&1)
	[ "$o" = "$(want_owner $nid)" ] ||
		setup_err="$setup_err
node $nid: owner $o, want $(want_owner $nid)"
done
[ "$(cat $NODE/has_spm_memory)" = "$(echo $spm | sed 's/2,3,4/2-4/')" ] ||
	setup_err="$setup_err
has_spm_memory: $(cat $NODE/has_spm_memory), want $spm"
if [ -z "$setup_err" ]; then
	ok "setup: SPM nodes $spm, $(echo "$state0" | tr '\n' ';' | sed 's/;$//')"
else
	notok "setup: SPM nodes $spm" "$state0$setup_err"
fi

# --- 2. data on SysRAM and SPM nodes --------------------------------------
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	echo 1 > /proc/sys/vm/compact_memory
	sleep 1
}
# usage: the net use (MemUsed less the per-cpu lists) of each SPM node,
# "nid kB" per line
usage() {
	$BIN/spm-fuzz-data usage $spm | awk '{ print $2, $8 }'
}
settle
use0=$(usage)

[ "$config" = unowned ] && echo 1 > $NODE/node2/spm/allow_user
$BIN/spm-fuzz-data keep -n $keep_nodes -m $KEEP_MB -i 20 -s "$seed" \
	-r $W/keep.ready > $W/keep.out 2>&1 &
keeper=$!
i=0
while [ ! -e $W/keep.ready ] && kill -0 $keeper 2>/dev/null && [ $i -lt 600 ]; do
	sleep 1
	i=$((i + 1))
done
[ "$config" = unowned ] && echo 0 > $NODE/node2/spm/allow_user
if [ -e $W/keep.ready ]; then
	ok "data: $(grep '^keep: placed' $W/keep.out | sed 's/^keep: //')"
	diag "$(grep '^keep: node' $W/keep.out | sed 's/^keep: //')"
else
	notok "data: placed on nodes $keep_nodes" "$(cat $W/keep.out)"
fi

# --- the run ----------------------------------------------------------------
for g in spm-fuzz-trinity spm-fuzz-ioctl; do
	mkdir -p $CG/$g
done
echo 512M > $CG/spm-fuzz-trinity/memory.max
echo 256M > $CG/spm-fuzz-ioctl/memory.max
mkdir -p $W/trinity
chown $NOBODY:$NOBODY $W/trinity
settle
use1=$(usage)
diag "SPM node use before the run (kB, net of per-cpu lists): $(echo "$use1" | tr '\n' ';')"

# the peak use of each SPM node during the run, and every 30 s how many
# tasks of nobody (trinity) there are in each state (for a trinity that
# ran no syscall: were its children running, sleeping or stuck?)
(
	i=0
	m0=$(date +%s)
	while [ ! -e $W/stop-monitor ]; do
		for nid in $spm_list; do
			u=$(awk '/MemUsed/ { print $4 }' $NODE/node$nid/meminfo)
			eval "p=\${peak$nid:-0}"
			[ "$u" -gt "$p" ] && eval "peak$nid=$u"
		done
		sleep 2
		i=$((i + 1))
		[ $((i % 15)) = 0 ] || continue
		st=$(awk -v u=$NOBODY '/^State:/ { s = $2 } /^Uid:/ && $2 == u { print s }' \
			/proc/[0-9]*/status 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ')
		echo "$(($(date +%s) - m0)) s: tasks of nobody by state:${st:- none}" >> $W/procs
		# while trinity has no child yet: where its one process waits
		tp=$(awk -v u=$NOBODY '/^Name:/ { n = $2 } /^Pid:/ { p = $2 }
			/^Uid:/ && $2 == u && n ~ /^trinity/ { print p }' \
			/proc/[0-9]*/status 2>/dev/null | sort -n)
		[ "$(echo "$tp" | wc -w)" = 1 ] &&
			echo "  $(cat /proc/$tp/comm 2>/dev/null) $tp: $(cut -d' ' -f3,14,15 /proc/$tp/stat 2>/dev/null) $(cat /proc/$tp/wchan 2>/dev/null); $(head -4 /proc/$tp/stack 2>/dev/null | tr '\n' ' ')" >> $W/procs
	done
	for nid in $spm_list; do
		eval "echo node $nid peak \${peak$nid:-0}"
	done > $W/peaks
) &
monitor=$!

cflags=
for c in $TRINITY_CALLS; do
	cflags="$cflags -c $c"
done
say "running trinity, spm-fuzz files and spm-fuzz ioctl for $secs s (seed $seed)"
t0=$(date +%s)
$W/incg $CG/spm-fuzz-trinity su -s /bin/sh nobody -c \
	"cd $W/trinity && exec timeout -s INT -k 60 $secs /usr/bin/trinity -a 64 \
	-C $TRINITY_CHILDREN -s $seed -qq -l off --disable-fds=sockets --stats $cflags" \
	> $W/trinity.out 2>&1 &
trinity=$!
$BIN/spm-fuzz files -t "$secs" -s "$seed" -j 2 -c $CG/spm-fuzz-trinity \
	-c $CG/spm-fuzz-ioctl > $W/files.out 2>&1 &
files=$!
$W/incg $CG/spm-fuzz-ioctl $BIN/spm-fuzz ioctl -t "$secs" -s "$seed" -j 2 \
	-n 4 -u $accel_user > $W/ioctl.out 2>&1 &
ioctl=$!
wait $trinity
t1=$(date +%s)
wait $files
files_rc=$?
wait $ioctl
ioctl_rc=$?
t2=$(date +%s)
touch $W/stop-monitor
wait $monitor
say "fuzzing done: trinity $((t1 - t0)) s, fuzzers $((t2 - t0)) s"

# Whatever trinity left: its processes, SysV segments, files.
su -s /bin/sh nobody -c 'kill -9 -1' 2>/dev/null
i=0
while grep -qs "^Uid:.*[[:space:]]${NOBODY}[[:space:]]" /proc/[0-9]*/status &&
      [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
left=$(grep -ls "^Uid:.*[[:space:]]${NOBODY}[[:space:]]" /proc/[0-9]*/status | wc -l)
ipc=$($BIN/spm-fuzz-data ipc-clean $NOBODY)
find /tmp /dev/shm /run -user $NOBODY -depth -exec rm -rf {} + 2>/dev/null
echo $allow2 > $NODE/node2/spm/allow_user

# --- 3. trinity -----------------------------------------------------------------
ran=$(sed -n 's/.*Ran \([0-9]*\) syscalls\. Successes: \([0-9]*\) *Failures: \([0-9]*\).*/\1 \2 \3/p' $W/trinity.out | tail -1)
set -- $ran
tdiag="$(grep -E 'Bailing|tainted|exit_reason|Error|killed' $W/trinity.out | sort | uniq -c | head -20)
$(sed -n '/^64bit:/,$p' $W/trinity.out | grep -v '^64bit:' | head -80)
peak use of the SPM nodes during the run (kB): $(tr '\n' ';' < $W/peaks)
nobody processes left after the run: $left; $ipc"
if [ -n "$ran" ] && [ "$1" -gt 0 ] && ! grep -q 'became tainted' $W/trinity.out; then
	ok "trinity: $1 syscalls ($2 succeeded, $3 failed) in $((t1 - t0)) s, $TRINITY_CHILDREN children as nobody, seed $seed"
	diag "$tdiag"
else
	notok "trinity: ran and summarised its run" "$tdiag
$(tail -30 $W/trinity.out)
$(tail -40 $W/procs 2>/dev/null)"
fi

# --- 4, 5. our fuzzers ----------------------------------------------------------
fuzzer_result() {	# fuzzer_result NAME RC OUTPUT
	line=$(grep "^spm-fuzz $1:" $3 | sed 's/^spm-fuzz //')
	if [ "$2" = 0 ] && [ -n "$line" ]; then
		ok "spm-fuzz $line"
		diag "$(grep '^#' $3 | sed 's/^# //')"
	else
		notok "spm-fuzz $1: exit status $2, ${line:-no summary}" \
			"$(grep -v '^#' $3 | head -40)
$(grep '^#' $3 | sed 's/^# //')"
	fi
}
fuzzer_result files $files_rc $W/files.out
fuzzer_result ioctl $ioctl_rc $W/ioctl.out

# --- 6. the SPM nodes' use against the pre-run value ---------------------------
compare() {	# compare BEFORE AFTER: lines "nid kB"; fails when one grew
	echo "$1" | while read -r nid kb; do
		now=$(echo "$2" | awk -v n=$nid '$1 == n { print $2 }')
		echo "$nid $kb $now"
	done | awk -v tol=$TOLERANCE_KB '
		{ d = $3 - $2; printf "node %s: %s kB before, %s kB after (%+d)\n", $1, $2, $3, d
		  if (d > tol) bad = 1 }
		END { exit bad }'
}
# the non-zero fields of the SPM nodes' meminfo, one line per node
meminfo_brief() {
	for nid in $spm_list; do
		awk -v n=$nid '$3 != "MemTotal:" && $3 != "MemFree:" && $4 != 0 {
			s = s sprintf("%s %s %s, ", substr($3, 1, length($3) - 1), $4, $5) }
			END { sub(/, $/, "", s); printf "node %s meminfo: %s\n", n, s }' \
			$NODE/node$nid/meminfo
	done
}
kill -USR2 $keeper 2>/dev/null
i=0
while [ ! -e $W/keep.ready.paused ] && kill -0 $keeper 2>/dev/null && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
i=0
while :; do
	settle
	use2=$(usage)
	cmp=$(compare "$use1" "$use2") && break
	i=$((i + 1))
	[ $i -ge 10 ] && break
	sleep 3
done
if [ $i -lt 10 ]; then
	ok "isolation: SPM nodes no fuller after the run than before ($(echo "$cmp" | tr '\n' ';' | sed 's/;$//'))"
	diag "$(meminfo_brief)"
else
	notok "isolation: SPM nodes no fuller after the run than before" \
		"$cmp
(tolerance $TOLERANCE_KB kB, after $i retries)
$(meminfo_brief)
$($BIN/spm-fuzz-data where / | tail -40)"
fi

# --- 7. the data ------------------------------------------------------------------
kill -TERM $keeper 2>/dev/null
wait $keeper
keep_rc=$?
kres=$(grep '^keep: result:' $W/keep.out | sed 's/^keep: result: //')
kplace=$(grep '^keep: placement:' $W/keep.out | sed 's/^keep: placement: //')
where=$(grep '^keep: node' $W/keep.out |
	tail -$(( $(echo $keep_nodes | tr , ' ' | wc -w) * 2 )) | sed 's/^keep: //')
if { [ "$keep_rc" = 0 ] || [ "$keep_rc" = 3 ]; } && [ -n "$kres" ]; then
	ok "data intact: $kres"
else
	notok "data intact: keeper exit status $keep_rc, ${kres:-no result}" \
		"$(grep -v '^keep: placed' $W/keep.out | tail -40)"
fi
# 8. where the data is: on its node, or on SysRAM when its SPM node's
# permission was off at a swap-in; never on another SPM node, SysRAM data
# never on an SPM node
if [ "$keep_rc" = 0 ] && [ -n "$kplace" ]; then
	ok "placement: the data stayed within its policy or went to SysRAM ($kplace)"
	diag "$where"
else
	notok "placement: the data stayed within its policy or went to SysRAM (${kplace:-no result})" \
		"$where"
fi

# --- 9. nothing left behind ------------------------------------------------------
i=0
while :; do
	settle
	use3=$(usage)
	cmp=$(compare "$use0" "$use3") && break
	i=$((i + 1))
	[ $i -ge 10 ] && break
	sleep 3
done
[ $i -lt 10 ]
rc=$?
result $rc "no leak: with the data freed, SPM nodes back to their use before it was placed ($(echo "$cmp" | tr '\n' ';' | sed 's/;$//'))" \
	"$cmp
(tolerance $TOLERANCE_KB kB, after $i retries)
$(meminfo_brief)
files with pages on SPM nodes:
$($BIN/spm-fuzz-data where / | tail -40)"
[ $rc = 0 ] && diag "$(meminfo_brief)"

# --- 10, 11. default-policy allocations land on SysRAM ------------------------------
out=$($BIN/spm-fuzz-data alloc -m 64 -d /tmp 2>&1)
rc=$?
result $rc "isolation: 64 MB anonymous + 16 MB tmpfs of a default-policy task (root cgroup) all on SysRAM" "$out"
[ $rc = 0 ] && diag "$out"
mems=$(cat $CG/spm-fuzz-trinity/cpuset.mems)
eff=$(cat $CG/spm-fuzz-trinity/cpuset.mems.effective)
out=$($W/incg $CG/spm-fuzz-trinity su -s /bin/sh nobody -c \
	"$BIN/spm-fuzz-data alloc -m 32 -d /tmp" 2>&1)
rc=$?
result $rc "isolation: 32 MB + 8 MB of a default-policy task of nobody in spm-fuzz-trinity (cpuset.mems '$mems' as the fuzzer left it, effective $eff) all on SysRAM" "$out"
[ $rc = 0 ] && diag "$out"

# --- 12. the sysfs state after the run -------------------------------------------
state_err=
state1=$(node_state)
for nid in $spm_list; do
	f=$NODE/node$nid/spm/allow_user
	o=$(cat $NODE/node$nid/spm/owner)
	[ "$o" = "$(want_owner $nid)" ] || state_err="$state_err
node $nid: owner $o after the run"
	if [ "$o" = none ]; then
		for v in 1 0 $allow2; do
			echo $v > $f 2>/dev/null || state_err="$state_err
node $nid: writing $v to allow_user failed"
			[ "$(cat $f)" = $v ] || state_err="$state_err
node $nid: allow_user reads $(cat $f) after writing $v"
		done
	elif echo 0 > $f 2>/dev/null; then
		state_err="$state_err
node $nid: owned by $o, yet allow_user took a write"
	fi
done
[ "$state1" = "$state0" ] || state_err="$state_err
before the run:
$state0
after:
$state1"
if [ -z "$state_err" ]; then
	ok "sysfs: owners, caps and allow_user as set up, allow_user writable only where unowned"
else
	notok "sysfs: owners, caps and allow_user as set up" "$state_err"
fi

# --- 13. taint ---------------------------------------------------------------------
taint=$(cat /proc/sys/kernel/tainted)
# O, E: our out-of-tree modules
new=$(( taint & ~taint0 & ~(4096 | 8192) ))
oom=$(dmesg | grep -c 'Killed process' || true)
if [ "$new" = 0 ]; then
	ok "taint: the kernel gained no taint flag (tainted $taint0 -> $taint)"
else
	notok "taint: the kernel gained taint flags $new (tainted $taint0 -> $taint)" \
		"$(dmesg | grep -E 'Tainted|BUG|WARNING' | head -20)"
fi
diag "OOM kills during the run: $oom" \
	"$(dmesg | grep 'Killed process' | sed 's/.*Killed process [0-9]* (\([^)]*\)).*/\1/' | sort | uniq -c | tr '\n' ';')"

say "$failed of $n failed"
[ $failed = 0 ]
