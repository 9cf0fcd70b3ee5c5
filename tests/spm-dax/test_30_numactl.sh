#!/bin/sh
# tests/spm-core/test_30_numactl.sh against node 3 (SPM through dax/kmem).
SPM_NODE=3 exec bash /spm/tests/spm-core/test_30_numactl.sh
