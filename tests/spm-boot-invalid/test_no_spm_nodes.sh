#!/bin/bash
# Boot with a malformed spm_nodes= (an empty list, then 'abc'; the last
# one wins): the kernel says why and runs with no SPM node.
want_log=(
	'spm: spm_nodes=: invalid node list, no SPM nodes'
	'spm: spm_nodes=abc: invalid node list, no SPM nodes'
	'spm: no SPM nodes'
)
. /spm/lib/no_spm_nodes.sh
