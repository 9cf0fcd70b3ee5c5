#!/bin/bash
# The compression ratio spm_cram reports is the data's own: pages of K
# random bytes and 4096 - K zeros compress with LZ4 to about K + 30 bytes
# (the workload prints the expected size; checked against liblz4), so
# K = 1365 gives about 2.9, K = 3072 about 1.3 and K = 4096 (random)
# exactly 1 (stored raw).
. /spm/lib/tap.sh
. /spm/lib/cram.sh


tap_plan 12

cram_prepare && cram_module || { tap_fail "setup: node 3 and spm_cram"; tap_done; }

for k in 1365 3072 4096; do
	run_load -m 16 -k $k
	t=$(v demote.target)
	tap_between "k=$k: data demoted to node 3" $(($(v pages) * 90 / 100)) "$(v pages)" "$t"
	within5 "k=$k: ratio $(v demote.cram.ratio) vs expected $(v expected_ratio)" \
		"$(milli "$(v expected_ratio)")" "$(milli "$(v demote.cram.ratio)")"
	within5 "k=$k: physical_bytes = pages x $(v expected_page_bytes) (within 5%)" \
		$((t * $(v expected_page_bytes))) "$(v demote.cram.physical_bytes)"
	tap_is "k=$k: workload exits 0" 0 "$RC"
	[ "$RC" = 0 ] && [ "${t:-0}" -gt 0 ] || tap_diag "$OUT"
done

tap_done
