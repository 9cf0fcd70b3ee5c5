#!/bin/sh
# Reproduces the QEMU multi-threaded TCG "Oops: int3" (see README, Cost
# benchmark):  tools/spm-vm --kernel baseline --no-spm --mttcg \
#   --add tools/tcg-int3-repro.sh --exec "sh /add/tcg-int3-repro.sh 3000"
# Toggle cpusets_enabled_key (cpuset css create/free) while the other vCPU
# allocates pages through get_page_from_freelist().
N=${1:-3000}
echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control
( while :; do head -c 32M /dev/zero | cat > /dev/null; done ) &
hog=$!
i=0
while [ $i -lt $N ]; do
	mkdir /sys/fs/cgroup/jl$i && rmdir /sys/fs/cgroup/jl$i
	i=$((i + 1))
done
kill $hog
echo "JLSTRESS done $N"
dmesg | grep -c "int3" | sed 's/^/JLSTRESS int3 lines: /'
