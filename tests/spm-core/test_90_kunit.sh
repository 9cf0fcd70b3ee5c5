#!/bin/sh
# KUnit suite "spm_node" (mm/spm_node_kunit.c, built as a module): the
# __GFP_SPM_NODE semantics (binding nid, no flag, __GFP_THISNODE, explicit
# nodemask, bulk allocation, high order, a full node failing instead of
# falling back). Runs last: one case fills the SPM node completely.
#
# The results come from KUnit's debugfs file
# /sys/kernel/debug/kunit/spm_node/results (CONFIG_KUNIT_DEBUGFS), one TAP
# result per case, the plan from the cases the file lists; the module must
# register exactly the suites named here (tests/lib/kunit.sh).
. /spm/lib/kunit.sh
kunit_run spm_node_kunit "spm_node"
