#!/bin/bash
# Reclaim of the compressed node, with zram swap below it. First the
# kernel's nodeN/spm/reclaim (spm_node_reclaim()) on a node holding a
# paused workload's pages: it reclaims from node 3 only. Then spm_cram's
# own reclaim: when demotion hits the high watermark its work item calls
# spm_node_reclaim() until physical usage is under the low watermark, and
# demotion goes on; the data stays intact through demotion and swap.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 19

cram_prepare && swap_off && cram_module ||
	{ tap_fail "setup: node 3 and spm_cram"; tap_done; }
# Start from a node 3 that holds only what this test puts there: earlier
# tests' pressure demoted other pages there too (the initramfs files,
# which live in tmpfs), and reclaim would rightly take those first.
swap_on && { echo 1000000 > $N/node3/spm/reclaim; } 2>/dev/null
swap_off

# Demote without swap (all of it goes to node 3), then add swap.
out=/tmp/cram-reclaim.out
load_paused $out -m 16 -k 2048
held=$(v final.target)
tap_between "paused workload holds pages on node 3" $(($(v pages) * 90 / 100)) "$(v pages)" "$held"
tap_check "zram swap on" swap_on
log0=$(cat $C/logical_bytes)
a0=$(node_meminfo 0 AnonPages)
cp /proc/vmstat /tmp/vmstat.0
cp $N/node3/meminfo /tmp/node3.0
an0=$(node_meminfo 3 AnonPages)
tap_is "node3/spm/reclaim 512" ok "$(try_write $N/node3/spm/reclaim 512)"
# The node itself must have lost the pages (a few more writes if the
# workload's pages were still being rotated on the LRU).
for i in 1 2 3 4; do
	[ $((an0 - $(node_meminfo 3 AnonPages))) -ge $((448 * 4)) ] && break
	try_write $N/node3/spm/reclaim 512 > /dev/null
done
tap_between "node 3 AnonPages dropped by ~512 pages (kB)" $((448 * 4)) 1000000000 \
	$((an0 - $(node_meminfo 3 AnonPages)))
# What moved: the /proc/vmstat and node 3 meminfo fields that changed.
tap_diag "$(awk 'NR == FNR { a[$1] = $2; next } $2 != a[$1] { print $1, a[$1], "->", $2 }' \
	/tmp/vmstat.0 /proc/vmstat | grep -E 'pgsteal|pgscan|pswp|slab|shmem|file|anon|demote|pgfree')"
tap_diag "$(diff /tmp/node3.0 $N/node3/meminfo | grep '^[<>]')"
tap_between "logical_bytes dropped by at least 512 pages" $((512 * 4096)) 1000000000 \
	$((log0 - $(cat $C/logical_bytes)))
tap_between "node 0 anon unchanged by node 3's reclaim (kB)" $((a0 - 1024)) $((a0 + 1024)) \
	"$(node_meminfo 0 AnonPages)"
kill -USR1 $pid
wait $pid
RC=$?
OUT=$(cat $out)
tap_is "checksums after node 3 reclaim" 0 "$(v resume.checksum_bad)"
# 512 pages of node 3: nearly all of them the workload's data.
tap_between "pages left node 3 (swapped out)" 0 $((held - 448)) "$(v resume.target)"
[ "$RC" = 0 ] || tap_diag "$OUT"

# spm_cram's reclaim: 8 MiB budget, low watermark at half of it. A fills
# the budget without swap and pauses; with swap on, B's demotion is
# throttled and the work item reclaims node 3, A's pages included (B's
# memory.reclaim only scans B's cgroup).
swap_off
cram_module budget_mb=8 low_pct=50 ||
	{ tap_fail "spm_cram budget_mb=8 low_pct=50"; tap_done; }
high=$(cat $C/high_watermark_bytes)
load_paused $out -m 16 -k 2048 -g /sys/fs/cgroup/spm-cram-a
held=$(v final.target)
tap_between "A: throttled at the high watermark" 1 1000000000 "$(v final.cram.throttled)"
tap_between "A: holds node 3 up to the high watermark" $((high * 9 / 10)) "$high" \
	"$(v final.cram.physical_bytes)"
swap_on
run_load -m 16 -k 2048 -g /sys/fs/cgroup/spm-cram-b
tap_is "B: workload exits 0" 0 "$RC"
tap_between "B: demoted to node 3" 1 "$(v pages)" "$(v demote.target)"
tap_between "reclaim work ran" 1 1000000 "$(cat $C/reclaim_runs)"
tap_between "spm_node_reclaim() freed pages of node 3" 1 1000000 "$(cat $C/reclaimed_pages)"
tap_between "peak physical_bytes <= high watermark" 1 "$high" "$(cat $C/peak_physical_bytes)"
tap_is "B: checksums through demotion and swap" 0 "$(v read.checksum_bad)"
[ "$RC" = 0 ] || tap_diag "$OUT"
kill -USR1 $pid
wait $pid
RC=$?
OUT=$(cat $out)
tap_is "A: checksums after reclaim" 0 "$(v resume.checksum_bad)"
tap_between "A: some of its pages left node 3" 0 $((held - 1)) "$(v resume.target)"
[ "$RC" = 0 ] || tap_diag "$OUT"

tap_check "swap off" swap_off
cram_module
rmdir /sys/fs/cgroup/spm-cram-a /sys/fs/cgroup/spm-cram-b 2>/dev/null

tap_done
