#!/bin/bash
# Reservations of migrations that fail after the new page was allocated:
# a write-fenced node takes private anonymous folios only, so demoting a
# tmpfs file's THPs is approved by may_demote() (a reservation), the new
# page is allocated on node 3, and the migration core refuses the folio
# (spm_folio_may_enter(): EPERM, pgmigrate_fail) and frees that page. Each
# such free must give its reservation back exactly: reserved_bytes is 0 as
# soon as memory.reclaim returns, and nothing was released as dead
# (reserve_dropped_bytes unchanged). The file stays on node 0, intact.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 6

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
dr0=$(cs reserve_dropped_bytes)
# The writer is gone: memory.reclaim is this shell's only reclaim.
echo 8M > $cg/memory.reclaim 2>/dev/null
res=$(cs reserved_bytes)
tap_between "approved demotions of the file failed (pgmigrate_fail)" 512 1000000000000 \
	$(($(file_key /proc/vmstat pgmigrate_fail) - f0))
tap_is "reserved_bytes 0 when memory.reclaim returns" 0 "$res"
tap_is "no reservation released as dead (reserve_dropped_bytes)" "$dr0" \
	"$(cs reserve_dropped_bytes)"
tap_is "nothing of the file on node 3 (kB)" 0 "$(node_meminfo 3 Shmem)"
tap_between "file still on node 0 (kB)" 8192 $((sh0 + 1024)) "$(node_meminfo 0 Shmem)"
tap_is "checksum" "$sum0" "$(md5sum < $d/data)"
rm -f $d/data
umount $d
rmdir $cg 2>/dev/null

tap_done
