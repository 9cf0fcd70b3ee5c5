#!/bin/sh
# The series' own kselftest, tools/testing/selftests/mm/spm_nodes.c of the
# kernel tree (built into the initramfs as /spm/selftests/spm_nodes), on
# this suite's boot-time SPM node (spm_nodes=2): its "boot" variant, whose
# TAP output is this program's.  tests/spm-dax runs the "dax" variant.
exec /spm/selftests/spm_nodes -v boot
