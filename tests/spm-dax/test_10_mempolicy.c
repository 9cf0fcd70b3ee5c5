// SPDX-License-Identifier: GPL-2.0
/* Node 3, the SPM node onlined through dax/kmem: see tests/lib/spm_mempolicy_tests.h. */
#define SPM_NODE 3
#include "spm_mempolicy_tests.h"
