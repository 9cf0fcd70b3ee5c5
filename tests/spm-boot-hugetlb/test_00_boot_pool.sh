#!/bin/bash
# hugepages=0:8,1:8,2:8 on the command line: the boot-time pool of each
# SysRAM node is allocated, SPM node 2's is not (no user placement is
# permitted at boot), and the kernel says so; the global count is the sum.
# Without the series node 2 gets its 8 huge pages like any node.
. /spm/lib/tap.sh

H=hugepages/hugepages-2048kB/nr_hugepages
N=/sys/devices/system/node
tap_plan 5
tap_is "node 2 is SPM" 2 "$(cat $N/has_spm_memory)"
tap_is "node 0: 8 boot-time huge pages" 8 "$(cat $N/node0/$H)"
tap_is "node 1: 8 boot-time huge pages" 8 "$(cat $N/node1/$H)"
tap_is "SPM node 2: none" 0 "$(cat $N/node2/$H)"
tap_is "vm.nr_hugepages is 16" 16 "$(cat /proc/sys/vm/nr_hugepages)"
dmesg | grep -i 'hugetlb' | sed 's/^/# /'
tap_done
