#!/bin/sh
# The series' own kselftest, tools/testing/selftests/mm/spm_nodes.c of the
# kernel tree (built into the initramfs as /spm/selftests/spm_nodes), on
# node 3, onlined as SPM through dax/kmem by test_00_online.sh: its "dax"
# variant, whose TAP output is this program's.  tests/spm-core runs the
# "boot" variant.
exec /spm/selftests/spm_nodes -v dax
