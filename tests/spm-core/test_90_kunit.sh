#!/bin/sh
# KUnit suite "spm_node" (mm/spm_node_kunit.c, built as a module): the
# __GFP_SPM_NODE semantics (binding nid, no flag, __GFP_THISNODE, explicit
# nodemask, bulk allocation, high order, a full node failing instead of
# falling back). Runs last: one case fills the SPM node completely.
exec spm-kunit spm_node_kunit
