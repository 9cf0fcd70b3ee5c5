#!/bin/bash
# Guest side of make test-upstream: run the kernel's mm selftests, one after
# the other, each under its own timeout, and print TAP on /dev/ttyS1.
#
#   bash /add/guest.sh MODE CAPS [ID...]
#
# Both modes first turn on 512M of zram swap (spm-setup-swap).
#
#   MODE  baseline: no SPM node expected (spm_nodes= means nothing there);
#         owned: node 2 must be an SPM node, and spm_test_owner claims it
#         with the capabilities CAPS (comma list, e.g. user,reclaim,...)
#   ID    only these lines of /add/programs (default: all of them)
#
# /add/programs: "ID TIMEOUT [@setup...] BINARY ARGS..." (upstream/programs);
# /add/bin/: the static binaries (upstream/build). Setup words:
#   @nobody      run as nobody (su), as run_vmtests.sh does (sudo -u nobody)
#   @overcommit  vm.overcommit_memory=1 while it runs
#   @test_hmm    modprobe test_hmm before, rmmod after
#   @noskip      exit status 4 is a failure, not KSFT_SKIP (khugepaged exits
#                with its number of failed cases)
#   @hugepages=N vm.nr_hugepages=N while it runs (after the caches are
#                dropped and memory compacted), the old value back after;
#                what it got, per node, and what is left after the restore
#                are TAP comments ("hugepages: ...")
#   @keep=NAME   /proc/sys/NAME (e.g. vm/enable_soft_offline) is written
#                back after the program, which changes it
#   @bindir      run it in /add/bin, not /tmp: the scripts call their
#                helpers (write_to_hugetlbfs, ...) by relative name
#   @nocpuset    the cpuset controller off in the root cgroup's
#                subtree_control (/init turns it on) while it runs, as on a
#                distribution's systemd: the hugetlb cgroup scripts set
#                cpuset.mems 0 in their cgroups when they can, and a
#                reservation there may then count node 0's free huge pages
#                only (10 pages over 3 nodes: fewer than the 5 it reserves)
#   @procps      pgrep -f and killall --wait as procps and psmisc have them
#                (the initramfs has busybox's killall, without --wait, and
#                no pgrep): shell stand-ins from /run/up-shims first in PATH
#
# Each program runs in /tmp (@bindir: /add/bin) in a session of its own (setsid); on timeout its
# whole process group is killed, and whatever it left behind is killed
# after it exits. Exit status 0 passes, 4 (KSFT_SKIP) skips, anything else
# fails; so does a new kernel report in dmesg (the patterns tools/spm-vm
# looks for) or a new taint flag (O, E, N excepted). The program's output
# goes to the console, live, as "ID| " lines, with its failed subtests (kselftest
# "not ok" lines) repeated as TAP comments on /dev/ttyS1.
#
# TAP: "ok N ID", "ok N ID # SKIP", "not ok N ID # exit=R|timeout|kernel",
# then "# ID rc=R time=Ss subtests=P/F/S" (passed/failed/skipped subtests:
# kselftest TAP lines, or the summary line of uffd-unit-tests).
mode=${1:?usage: guest.sh baseline|owned CAPS [ID...]}
caps=${2:-}
shift 2
tap=/dev/ttyS1
[ -w "$tap" ] || tap=/dev/stdout
bin=/add/bin
problems='BUG:|WARNING:|Oops|general protection fault|Kernel panic|kernel BUG at|KASAN|KFENCE|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|INFO: |Unable to handle|list_add corruption|list_del corruption|detected stalls|blocked for more than|stack-protector'

t() { echo "$*" > "$tap"; }
bail() { t "Bail out! $*"; echo "guest.sh: $*" >&2; exit 1; }

# --- setup ---------------------------------------------------------------
echo 0 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
case "$mode" in
baseline)
	[ -e /sys/devices/system/node/has_spm_memory ] &&
		bail "baseline mode, but this kernel has SPM nodes"
	setup="kernel $(uname -r), no SPM support"
	;;
owned)
	spm=$(cat /sys/devices/system/node/has_spm_memory 2>/dev/null) ||
		bail "no /sys/devices/system/node/has_spm_memory: not the patched kernel"
	[ "$spm" = 2 ] || bail "has_spm_memory is '$spm', not 2"
	out=$(modprobe spm_test_owner nid=2 "caps=$caps" 2>&1) ||
		bail "modprobe spm_test_owner caps=$caps: $out"
	owner=$(cat /sys/devices/system/node/node2/spm/owner)
	[ "$owner" != none ] || bail "node 2 has no owner after loading spm_test_owner"
	setup="kernel $(uname -r), has_spm_memory $spm, node 2 owner $owner, caps '$(cat /sys/devices/system/node/node2/spm/caps)'"
	;;
*) bail "unknown mode '$mode'" ;;
esac
# Swap, as a test machine has it (khugepaged's swap-in cases, MADV_PAGEOUT):
# 512M of zram, on both kernels.
spm-setup-swap 512M > /dev/null || bail "spm-setup-swap 512M failed"
setup="$setup, swap $(awk 'NR == 2 { print $1, $3 " kB" }' /proc/swaps)"
t "TAP version 13"
t "# setup: $setup"
t "# nodes: online $(cat /sys/devices/system/node/online), has_memory $(cat /sys/devices/system/node/has_memory), cpu flags la57=$(grep -qw la57 /proc/cpuinfo && echo y || echo n) pku=$(grep -qw pku /proc/cpuinfo && echo y || echo n) pdpe1gb=$(grep -qw pdpe1gb /proc/cpuinfo && echo y || echo n)"
echo "guest.sh: $setup"

# Huge page size and the per-node pool files of @hugepages.
hpkb=$(awk '$1 == "Hugepagesize:" { print $2 }' /proc/meminfo)
t "# hugetlb: Hugepagesize ${hpkb:-none} kB, nr_hugepages $(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo none), sizes $(ls /sys/kernel/mm/hugepages 2>/dev/null | tr '\n' ' ')"
hp_nodes() {	# "0:N 1:N ..." of the default size
	local d out=
	for d in /sys/devices/system/node/node[0-9]*; do
		out="$out ${d##*node}:$(cat "$d/hugepages/hugepages-${hpkb}kB/nr_hugepages" 2>/dev/null)"
	done
	echo "${out# }"
}

# @procps: pgrep and killall --wait.
mkdir -p /run/up-shims
cat > /run/up-shims/pgrep <<'SHIM'
#!/bin/bash
# pgrep [-f] PATTERN (procps' pgrep is not in the initramfs): the PIDs
# whose name (-f: command line) matches the extended regex, but its own.
# No child process: its command line would match the pattern.
full=0 pat=
while [ $# -gt 0 ]; do
	case "$1" in -f) full=1 ;; -*) ;; *) pat=$1 ;; esac
	shift
done
[ -n "$pat" ] || exit 2
rc=1
for d in /proc/[0-9]*; do
	[ "${d#/proc/}" = "$$" ] && continue
	if [ "$full" = 1 ]; then
		mapfile -d '' a < "$d/cmdline" 2>/dev/null || continue
		c="${a[*]}"
	else
		read -r c < "$d/comm" 2>/dev/null || continue
	fi
	[ -n "$c" ] && [[ $c =~ $pat ]] && { echo "${d#/proc/}"; rc=0; }
done
exit $rc
SHIM
cat > /run/up-shims/killall <<'SHIM'
#!/bin/bash
# killall [-SIG] [--wait|-w] NAME...: busybox's killall, then, with --wait,
# as psmisc's: until no process of those names is left (at most 60 s).
args=() names=() w=0
for a in "$@"; do
	case "$a" in
	--wait|-w) w=1 ;;
	-*) args+=("$a") ;;
	*) args+=("$a"); names+=("$a") ;;
	esac
done
busybox killall "${args[@]}"
rc=$?
if [ "$w" = 1 ] && [ ${#names[@]} -gt 0 ]; then
	for i in $(seq 600); do
		pidof "${names[@]}" > /dev/null || break
		sleep 0.1
	done
fi
exit $rc
SHIM
chmod 755 /run/up-shims/pgrep /run/up-shims/killall

# --- the programs -------------------------------------------------------------
wanted() {
	[ $# -eq 0 ] && return 0
	local n
	for n in "$@"; do [ "$n" = "$id" ] && return 0; done
	return 1
}

lines=()
while read -r line; do
	line=${line%%#*}
	[ -n "${line// }" ] && lines+=("$line")
done < /add/programs
sel=()
for line in "${lines[@]}"; do
	read -r id _ <<< "$line"
	wanted "$@" && sel+=("$line")
done
[ ${#sel[@]} -gt 0 ] || bail "no program matched: $*"
t "1..${#sel[@]}"

taint_flags() {
	local letters=PFSRMBUDAWCIOELKXTN i=0 out=
	while [ $i -lt 19 ]; do
		[ $(( ($1 >> i) & 1 )) = 1 ] && out="$out${letters:$i:1}"
		i=$((i + 1))
	done
	echo "${out:-?}"
}

n=0
for line in "${sel[@]}"; do
	read -r id limit rest <<< "$line"
	read -r -a words <<< "$rest"
	n=$((n + 1))
	pre=() post=() noskip=0 hp= dir=/tmp path=$PATH
	cmd=()
	for w in "${words[@]}"; do
		case "$w" in
		@nobody) grep -q '^nobody:' /etc/passwd ||
				echo 'nobody:x:65534:65534:nobody:/tmp:/bin/sh' >> /etc/passwd
			pre+=(su -s /bin/sh nobody -c) ;;
		@overcommit) old_oc=$(cat /proc/sys/vm/overcommit_memory)
			echo 1 > /proc/sys/vm/overcommit_memory
			post+=("echo $old_oc > /proc/sys/vm/overcommit_memory") ;;
		@test_hmm) modprobe test_hmm || echo "guest.sh: modprobe test_hmm failed" >&2
			post+=("rmmod test_hmm") ;;
		@noskip) noskip=1 ;;
		@hugepages=*) hp=${w#@hugepages=}
			[[ "$hp" =~ ^[0-9]+$ ]] || bail "$id: bad $w"
			[ -n "$hpkb" ] || bail "$id: $w, but no hugetlb in this kernel" ;;
		@keep=*) f=/proc/sys/${w#@keep=}
			[ -f "$f" ] || bail "$id: $w: no $f"
			post+=("echo $(cat "$f") > $f") ;;
		@bindir) dir=$bin ;;
		@nocpuset) cg=/sys/fs/cgroup/cgroup.subtree_control
			if grep -qw cpuset "$cg"; then
				if echo -cpuset > "$cg"; then
					post+=("echo +cpuset > $cg")
				else
					echo "guest.sh: $id: cannot turn cpuset off in $cg" >&2
				fi
			fi ;;
		@procps) path=/run/up-shims:$PATH ;;
		@*) bail "$id: unknown setup word $w" ;;
		*) if [ ${#cmd[@]} = 0 ]; then cmd+=("$bin/$w"); else cmd+=("$w"); fi ;;
		esac
	done
	# su -c takes the command as one string.
	[ ${#pre[@]} -gt 0 ] && [ "${pre[0]}" = su ] && cmd=("exec ${cmd[*]}")
	# As run_vmtests.sh does for THP tests: free what can be freed first.
	sync
	echo 3 > /proc/sys/vm/drop_caches
	echo 1 > /proc/sys/vm/compact_memory
	hpnote=
	if [ -n "$hp" ]; then
		hp_old=$(cat /proc/sys/vm/nr_hugepages)
		echo "$hp" > /proc/sys/vm/nr_hugepages
		hpnote="$hp asked, $(cat /proc/sys/vm/nr_hugepages) got (node:pages $(hp_nodes)), $(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo) free"
		echo "guest.sh: $id: hugepages $hpnote"
	fi
	dmesg -c > /dev/null
	taint0=$(cat /proc/sys/kernel/tainted)
	echo "SPM-UPSTREAM-BEGIN $id: ${pre[*]} ${cmd[*]}"
	rm -f /tmp/.up-timeout
	t0=$(cut -d' ' -f1 /proc/uptime)
	# The output goes to /tmp/up.out and, live, to the console.
	rm -f /tmp/up.fifo /tmp/up.out
	mkfifo /tmp/up.fifo
	tee /tmp/up.out < /tmp/up.fifo |
		awk -v p="$id| " '{ print p $0; fflush() }' &
	teep=$!
	(cd "$dir" && PATH=$path exec setsid "${pre[@]}" "${cmd[@]}") > /tmp/up.fifo 2>&1 < /dev/null &
	pid=$!
	setsid sh -c "sleep $limit; touch /tmp/.up-timeout; kill -KILL -$pid" 2>/dev/null &
	dog=$!
	wait "$pid"
	rc=$?
	kill -KILL "-$dog" 2>/dev/null
	wait "$dog" 2>/dev/null
	kill -KILL "-$pid" 2>/dev/null
	t1=$(cut -d' ' -f1 /proc/uptime)
	# A process that left the program's session may still hold the pipe.
	for i in 1 2 3 4 5; do kill -0 "$teep" 2>/dev/null || break; sleep 1; done
	kill "$teep" 2>/dev/null
	wait "$teep" 2>/dev/null
	for p in "${post[@]}"; do eval "$p" 2>/dev/null; done
	if [ -n "$hp" ]; then
		echo "$hp_old" > /proc/sys/vm/nr_hugepages
		hpnote="$hpnote; $hp_old restored: nr_hugepages $(cat /proc/sys/vm/nr_hugepages) (node:pages $(hp_nodes))"
	fi
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
	kern=$(dmesg -c | grep -E "$problems" | head -3)
	newt=$(( $(cat /proc/sys/kernel/tainted) & ~taint0 & ~(4096 | 8192 | 262144) ))
	echo "SPM-UPSTREAM-END $id: rc=$rc time=${secs}s"
	# kselftest subtest counts (TAP and kselftest_harness lines).
	sp=$(grep -E '^(# )?ok [0-9]+ ' /tmp/up.out | grep -vc '# SKIP')
	ss=$(grep -E '^(# )?ok [0-9]+ .*# SKIP' /tmp/up.out | wc -l)
	sf=$(grep -cE '^(# )?not ok [0-9]+ ' /tmp/up.out)
	# uffd-unit-tests prints no TAP, but a summary line.
	if [ "$sp$sf$ss" = 000 ]; then
		u=$(sed -n 's/^Userfaults unit tests: pass=\([0-9]*\), skip=\([0-9]*\), fail=\([0-9]*\) .*/\1 \3 \2/p' /tmp/up.out | tail -1)
		[ -n "$u" ] && read -r sp sf ss <<< "$u"
	fi
	why=
	if [ -e /tmp/.up-timeout ]; then
		why="timeout after ${limit}s"
	elif [ -n "$kern" ]; then
		why="kernel report"
	elif [ "$newt" != 0 ]; then
		why="taint $(taint_flags "$newt")"
	elif [ "$rc" != 0 ] && { [ "$rc" != 4 ] || [ "$noskip" = 1 ]; }; then
		why="exit=$rc"
	fi
	if [ -n "$why" ]; then
		t "not ok $n $id # $why"
	elif [ "$rc" = 4 ]; then
		reason=$(grep -m1 -iE 'skip' /tmp/up.out | tr -d '\r' | cut -c1-120)
		t "ok $n $id # SKIP ${reason:-exit 4}"
	else
		t "ok $n $id"
	fi
	t "# $id rc=$rc time=${secs}s subtests=$sp/$sf/$ss"
	[ -n "$hpnote" ] && t "#   $id: hugepages: $hpnote"
	grep -E '^(# )?not ok [0-9]+ ' /tmp/up.out | head -20 | tr -d '\r' |
		while read -r l; do t "#   $id: $l"; done
	[ -n "$kern" ] && while read -r l; do t "#   $id: KERNEL: $l"; done <<< "$kern"
	[ -e /tmp/.up-timeout ] && tail -3 /tmp/up.out | tr -d '\r' |
		while read -r l; do t "#   $id: last: $l"; done
done
t "# done"
exit 0
