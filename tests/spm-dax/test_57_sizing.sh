#!/bin/bash
# Sizes derived from the machine's memory count System RAM only:
# /proc/meminfo's MemTotal (SPM memory is reported apart, as SpmTotal), the
# overcommit limit (CommitLimit), the default size of a new tmpfs,
# min_free_kbytes and the dirty page limits (nr_dirty_threshold).  Each is
# measured with SPM node 3 online, after its memory is taken away (daxctl
# back to devdax) and after it is onlined again: the SPM memory must not
# move any of them.  Node 2 is SPM from boot, so the absolute values must
# also match what nodes 0 and 1 alone give.
. /spm/lib/tap.sh

N=/sys/devices/system/node
MNT=/tmp/spm-sizing-tmpfs

# Getters print tap_missing's word (one word: read keeps the fields in place).
kb_of() { file_key /proc/meminfo "$1"; }
node_total() { node_meminfo "$1" MemTotal; }
tmpfs_kb() {
	local kb
	mkdir -p "$MNT"
	mount -t tmpfs none "$MNT" || { tap_missing "tmpfs:$MNT"; return; }
	kb=$(df -k "$MNT" | awk 'NR == 2 { print $2 }')
	umount "$MNT"
	echo "${kb:-$(tap_missing "df:$MNT")}"
}
dirty_thresh() {
	sync
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	file_key /proc/vmstat nr_dirty_threshold
}
measure() {
	local m=/proc/sys/vm/min_free_kbytes

	echo "$(kb_of CommitLimit) $(tmpfs_kb) $(cat $m 2>/dev/null || tap_missing $m) $(dirty_thresh)" \
		"$(kb_of MemTotal) $(kb_of SpmTotal) $(node_total 3)"
}
# within PCT percent (at least SLACK) of each other
close() {
	local a=$1 b=$2 pct=$3 slack=${4:-0} d tol
	d=$((a > b ? a - b : b - a))
	tol=$((a * pct / 100))
	[ "$tol" -lt "$slack" ] && tol=$slack
	[ "$d" -le "$tol" ]
}

tap_plan 12

tap_is "node 3 starts as an SPM node with memory" 2-3 "$(cat $N/has_spm_memory)"
sysram=$(( $(node_total 0) + $(node_total 1) ))
ratio=$(cat /proc/sys/vm/overcommit_ratio)
swap=$(kb_of SwapTotal)

read -r c_on t_on m_on d_on mt_on st_on n3_on <<< "$(measure)"
out=$(daxctl reconfigure-device --mode=devdax -f dax0.0 2>&1) || tap_diag "devdax: $out"
read -r c_off t_off m_off d_off mt_off st_off n3_off <<< "$(measure)"
out=$(daxctl reconfigure-device --mode=system-ram dax0.0 2>&1) || tap_diag "system-ram: $out"
read -r c_on2 t_on2 m_on2 d_on2 mt_on2 st_on2 n3_on2 <<< "$(measure)"
tap_diag "SysRAM MemTotal ${sysram} kB, overcommit_ratio $ratio, swap $swap kB" \
	"node 3 online:   CommitLimit $c_on kB, tmpfs $t_on kB, min_free_kbytes $m_on, nr_dirty_threshold $d_on" \
	"node 3 removed:  CommitLimit $c_off kB, tmpfs $t_off kB, min_free_kbytes $m_off, nr_dirty_threshold $d_off" \
	"node 3 online:   CommitLimit $c_on2 kB, tmpfs $t_on2 kB, min_free_kbytes $m_on2, nr_dirty_threshold $d_on2"

tap_is "node 3 is back with memory" 2-3 "$(cat $N/has_spm_memory)"
tap_diag "MemTotal $mt_on / $mt_off / $mt_on2 kB, SpmTotal $st_on / $st_off / $st_on2 kB," \
	"node 3 MemTotal $n3_on / $n3_off / $n3_on2 kB"
if [ "$mt_on" = "$mt_off" ] && [ "$mt_off" = "$mt_on2" ] && [ "$mt_on" = "$sysram" ]; then
	tap_ok "MemTotal is SysRAM's ($sysram kB) whatever the SPM node holds"
else
	tap_fail "MemTotal is SysRAM's whatever the SPM node holds" \
		"SysRAM $sysram kB; MemTotal $mt_on / $mt_off / $mt_on2 kB"
fi
# node 3 removed: its MemTotal file reads 0 (or is gone: tap_missing's word)
n2=$(node_total 2)
if [ "$st_on" = $((n2 + n3_on)) ] && [ "$st_off" = "$n2" ] && [ "$st_on2" = $((n2 + n3_on2)) ]; then
	tap_ok "SpmTotal follows the SPM nodes' memory ($st_off -> $st_on2 kB)"
else
	tap_fail "SpmTotal follows the SPM nodes' memory" \
		"node 2 $n2 kB, node 3 $n3_on / $n3_on2 kB; SpmTotal $st_on / $st_off / $st_on2 kB"
fi
if [ -n "$n3_on2" ] && [ "$n3_on2" -gt 0 ] 2>/dev/null; then
	tap_ok "node 3 has memory again ($n3_on2 kB)"
else
	tap_fail "node 3 has memory again" "node 3 MemTotal '$n3_on2'"
fi
if [ "$c_on" = "$c_off" ] && [ "$c_off" = "$c_on2" ]; then
	tap_ok "CommitLimit does not change with the SPM node's memory"
else
	tap_fail "CommitLimit does not change with the SPM node's memory" "$c_on / $c_off / $c_on2 kB"
fi
want=$((sysram * ratio / 100 + swap))
if close "$want" "$c_on" 1; then
	tap_ok "CommitLimit is SysRAM x overcommit_ratio + swap ($want kB)"
else
	tap_fail "CommitLimit is SysRAM x overcommit_ratio + swap" "want about $want kB, have $c_on kB"
fi
if [ "$t_on" = "$t_off" ] && [ "$t_off" = "$t_on2" ]; then
	tap_ok "a new tmpfs gets the same default size whatever the SPM node holds"
else
	tap_fail "a new tmpfs gets the same default size whatever the SPM node holds" "$t_on / $t_off / $t_on2 kB"
fi
if close $((sysram / 2)) "$t_on" 1; then
	tap_ok "tmpfs default size is half of SysRAM ($((sysram / 2)) kB)"
else
	tap_fail "tmpfs default size is half of SysRAM" "want about $((sysram / 2)) kB, have $t_on kB"
fi
if close "$m_off" "$m_on2" 1 2; then
	tap_ok "min_free_kbytes is not raised by onlining SPM memory ($m_off -> $m_on2)"
else
	tap_fail "min_free_kbytes is not raised by onlining SPM memory" "$m_off -> $m_on2"
fi
# 384 MiB of free SPM memory would add about 20% of 98304 pages.  It may
# go down: the memmap (and, on the debug kernel, the KASAN shadow) of the
# hot-added memory comes from SysRAM.
if [ -n "$d_off" ] && [ -n "$d_on2" ] && [ $((d_on2 - d_off)) -le 2048 ]; then
	tap_ok "nr_dirty_threshold is not raised by SPM free memory ($d_off -> $d_on2)"
else
	tap_fail "nr_dirty_threshold is not raised by SPM free memory" "$d_off -> $d_on2 pages"
fi
if close "$d_on" "$d_on2" 0 4096; then
	tap_ok "nr_dirty_threshold the same before and after the round trip"
else
	tap_fail "nr_dirty_threshold the same before and after the round trip" "$d_on -> $d_on2 pages"
fi

tap_done
