#!/bin/sh
# KUnit suite "spm_node" with two SPM nodes (2 from boot, 3 through dax):
# an allocation bound to one SPM node never comes from the other, even
# when the first is full (spm_full_node_fails).
exec spm-kunit spm_node_kunit
