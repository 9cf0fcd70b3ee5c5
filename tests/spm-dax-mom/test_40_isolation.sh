#!/bin/bash
# The isolation tests of the spm-dax suite, against node 3 onlined with
# its memmap on itself.
exec /spm/tests/spm-dax/test_40_isolation "$@"
