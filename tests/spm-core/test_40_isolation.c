// SPDX-License-Identifier: GPL-2.0
/* Node 2, the boot-time SPM node: see tests/lib/spm_isolation_tests.h. */
#define SPM_NODE 2
#include "spm_isolation_tests.h"
