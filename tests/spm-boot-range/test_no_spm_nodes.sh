#!/bin/bash
# Boot with an out-of-range spm_nodes= (64 = MAX_NUMNODES, then 999): the
# kernel says why and runs with no SPM node.
want_log=(
	'spm: spm_nodes=64: invalid node list, no SPM nodes'
	'spm: spm_nodes=999: invalid node list, no SPM nodes'
	'spm: no SPM nodes'
)
. /spm/lib/no_spm_nodes.sh
