#!/bin/bash
# Statistics in zswap's conventions, next to the old files: stored_pages
# and pool_total_size (bytes) are the pool as it is (logical_bytes / 4096
# and physical_bytes); reject_compress_poor (pages stored raw),
# pool_limit_hit (demotion refused at the high watermark) and
# written_back_pages (pages reclaimed off the node) only grow: "reset"
# leaves them alone. The per-page records are sparse: no vmalloc area
# sized by the node's span (the old driver vmalloc'ed 4 bytes a pfn of
# node 3: 384 KiB).
. /spm/lib/tap.sh
. /spm/lib/cram.sh

tap_plan 14

cram_prepare && swap_off && rmmod spm_cram 2>/dev/null
v0=$(file_key /proc/meminfo VmallocUsed)
cram_module budget_mb=4 || { tap_fail "setup: node 3 and spm_cram budget_mb=4"; tap_done; }
# 4 bytes a pfn of a node of N kB: N bytes (the module's own code aside).
span=$(node_meminfo 3 MemTotal)
tap_between "VmallocUsed by loading spm_cram < 4 bytes a pfn of node 3 (kB)" \
	0 $((span / 1024 - 1)) $(($(file_key /proc/meminfo VmallocUsed) - v0))
tap_is "empty: stored_pages pool_total_size" "0 0" "$(cs stored_pages) $(cs pool_total_size)"

# Incompressible data: every page stored raw; 4 MiB budget: throttled.
out=/tmp/cram-stats.out
load_paused $out -m 8 -k 4096
t=$(v final.target)
tap_between "raw pages demoted" 1 "$(v pages)" "$t"
# The workload's own pages (stack, heap) can be demoted too.
tap_between "stored_pages = pages on node 3 (+ the workload's own)" "$t" $((t + 512)) \
	"$(cs stored_pages)"
tap_is "stored_pages = logical_bytes / 4096" $(($(cs logical_bytes) / 4096)) "$(cs stored_pages)"
tap_is "pool_total_size = physical_bytes" "$(cs physical_bytes)" "$(cs pool_total_size)"
st=$(cs stored_pages)
poor=$(cs reject_compress_poor)
tap_between "reject_compress_poor: the raw data's pages at least" "$t" "$st" "$poor"
tap_between "pool_total_size: 4096 bytes a raw page, at most 4096 a page" \
	$((poor * 4096)) $((st * 4096)) "$(cs pool_total_size)"
hit=$(cs pool_limit_hit)
tap_between "pool_limit_hit: demotion refused at the high watermark" 1 1000000000 "$hit"
echo 1 > $C/reset
tap_is "reset: old counters zeroed (throttled)" 0 "$(cs throttled)"
tap_is "reset: zswap-style counters kept" "$poor $hit" \
	"$(cs reject_compress_poor) $(cs pool_limit_hit)"
# Written back: with swap, a second workload is throttled and the work
# item reclaims node 3 (spm_node_reclaim()).
swap_on
wb0=$(cs written_back_pages)
run_load -m 8 -k 4096 -g /sys/fs/cgroup/spm-cram-stats-b
tap_between "written_back_pages grew (driver reclaim)" 1 1000000000 \
	$(($(cs written_back_pages) - wb0))
kill -USR1 $pid; wait $pid; RC=$?; OUT=$(cat $out)
tap_is "checksums through reclaim" 0 "$(v resume.checksum_bad)"
tap_is "pool empty after the exit" "0 0" "$(cs stored_pages) $(cs pool_total_size)"
swap_off
cram_module
rmdir /sys/fs/cgroup/spm-cram-stats-b 2>/dev/null

tap_done
