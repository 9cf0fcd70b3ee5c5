#!/bin/sh
# tests/spm-core/test_80_empty.sh for both SPM nodes (2 from boot, 3 through dax).
SPM_NODES="2 3" exec bash /spm/tests/spm-core/test_80_empty.sh
