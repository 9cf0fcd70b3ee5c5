#!/bin/bash
# Boot with spm_nodes=0-3, which would leave no System RAM node: the kernel
# says why and runs with no SPM node.
want_log=(
	'spm: spm_nodes=0-3 would leave no System RAM node, ignored'
)
. /spm/lib/no_spm_nodes.sh
