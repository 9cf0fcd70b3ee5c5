#!/bin/sh
# KUnit suite "spm_node" with two SPM nodes (2 from boot, 3 through dax):
# an allocation bound to one SPM node never comes from the other, even
# when the first is full (spm_full_node_fails).
#
# The results come from KUnit's debugfs file
# /sys/kernel/debug/kunit/spm_node/results (CONFIG_KUNIT_DEBUGFS), one TAP
# result per case, the plan from the cases the file lists; the module must
# register exactly the suites named here (tests/lib/kunit.sh).
. /spm/lib/kunit.sh
kunit_run spm_node_kunit "spm_node"
