#!/bin/bash
# A write-fenced node takes private anonymous folios only
# (spm_folio_may_enter()), so reclaim must not offer it a tmpfs file's
# folios: shrink_folio_list() reclaims them as if there were no demotion
# target, instead of asking may_demote(), allocating a page on node 3 and
# failing the migration with EPERM for every folio on every pass (before
# patch 33: thousands of pgmigrate_fail per memory.reclaim, millions under
# a long reclaim). Nothing is reserved, nothing lands on node 3, the file
# stays on node 0, intact.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 7

cram_prepare && cram_module || { tap_fail "setup: node 3 and spm_cram"; tap_done; }
d=/tmp/cram-refused
cg=/sys/fs/cgroup/spm-cram-refused
mkdir -p $d $cg
mount -t tmpfs -o huge=always,size=32m none $d || { tap_fail "tmpfs"; tap_done; }
numactl --membind=0 sh -c \
	"echo \$\$ > $cg/cgroup.procs && seq 1 2000000 | head -c 8388608 > $d/data"
sum0=$(md5sum < $d/data)
sh0=$(node_meminfo 0 Shmem)
f0=$(file_key /proc/vmstat pgmigrate_fail)
dm0=$(file_key /proc/vmstat pgdemote_direct)
dr0=$(cs reserve_dropped_bytes)
de0=$(cs demotions)
# The writer is gone: memory.reclaim is this shell's only reclaim.
echo 8M > $cg/memory.reclaim 2>/dev/null
res=$(cs reserved_bytes)
tap_is "no demotion of the file was tried (pgmigrate_fail delta)" 0 \
	$(($(file_key /proc/vmstat pgmigrate_fail) - f0))
tap_is "nothing demoted (pgdemote_direct delta)" 0 \
	$(($(file_key /proc/vmstat pgdemote_direct) - dm0))
tap_is "reserved_bytes 0 when memory.reclaim returns" 0 "$res"
tap_is "no reservation released as dead (reserve_dropped_bytes)" "$dr0" \
	"$(cs reserve_dropped_bytes)"
tap_is "nothing of the file on node 3 (kB)" 0 "$(node_meminfo 3 Shmem)"
tap_between "file still on node 0 (kB)" 8192 $((sh0 + 1024)) "$(node_meminfo 0 Shmem)"
tap_is "checksum" "$sum0" "$(md5sum < $d/data)"
[ "$(cs demotions)" = "$de0" ] || echo "# spm_cram demotions went from $de0 to $(cs demotions)"
rm -f $d/data
umount $d
rmdir $cg 2>/dev/null

tap_done
