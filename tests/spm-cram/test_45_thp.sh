#!/bin/bash
# Large folios: a 32 MiB shmem file in huge=always tmpfs, written on node
# 0, is demoted by memory.reclaim as whole THPs (thp_migration_success).
# fence=0: a write-fenced node takes private anonymous folios only
# (spm_folio_may_enter()), and the shell cannot make anonymous THPs.
# A THP arrival does not compress its 512 pages in the callback: they are
# accounted at PAGE_SIZE, handed to a work item (compress_deferred_pages)
# and corrected to their LZ4 sizes; once the queue is empty the recorded
# sizes equal a full recompression (rescan leaves physical_bytes as it
# was) and the file's checksum holds.
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 11

cram_prepare && cram_module fence=0 ||
	{ tap_fail "setup: node 3 and spm_cram fence=0"; tap_done; }
d=/tmp/cram-thp
cg=/sys/fs/cgroup/spm-cram-thp
mkdir -p $d $cg
mount -t tmpfs -o huge=always,size=64m none $d ||
	{ tap_fail "tmpfs huge=always"; tap_done; }
# Only the writer is in the cgroup: no page of this shell is demoted (with
# fence=0 its writes there would change what a rescan finds).
numactl --membind=0 sh -c \
	"echo \$\$ > $cg/cgroup.procs && seq 1 5000000 | head -c 33554432 > $d/data"
sum0=$(md5sum < $d/data)
tap_between "file on node 0 in huge pages (kB)" 16384 32768 "$(node_meminfo 0 ShmemHugePages)"

m0=$(file_key /proc/vmstat thp_migration_success)
for i in 1 2 3 4; do
	echo 32M > $cg/memory.reclaim 2>/dev/null
	[ "$(node_meminfo 3 Shmem)" -ge 30720 ] && break
done
tap_between "file demoted to node 3 (kB)" 30720 34816 "$(node_meminfo 3 Shmem)"
tap_between "as huge pages (kB)" 16384 32768 "$(node_meminfo 3 ShmemHugePages)"
tap_between "THPs migrated whole (thp_migration_success)" 8 1000000 \
	$(($(file_key /proc/vmstat thp_migration_success) - m0))
tap_between "compression deferred to the work item (pages)" 4096 1000000 \
	"$(cs compress_deferred_pages)"
tap_is "deferred queue drained" 0 "$(cram_wait_zero compress_pending_pages 20)"
tap_between "stored_pages: the file's pages" 7680 8704 "$(cs stored_pages)"
phys=$(cs physical_bytes)
echo 1 > $C/rescan
tap_is "recorded sizes = a full recompression (rescan: physical_bytes unchanged)" \
	"$phys" "$(cs physical_bytes)"
ratio=$(milli "$(cs ratio)")
tap_between "ratio of the text data (x1000)" 1500 20000 "$ratio"
tap_is "checksum of the file on node 3" "$sum0" "$(md5sum < $d/data)"
rm -f $d/data
tap_is "file gone: nothing accounted" "0 0" "$(cs logical_bytes) $(cs physical_bytes)"
umount $d
rmdir $cg 2>/dev/null
cram_module

tap_done
