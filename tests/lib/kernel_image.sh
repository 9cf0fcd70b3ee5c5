# Where the kernel image lies (sourced by tests, after tap.sh).
#
# image_range: "START END" of the image in physical memory, hex without 0x,
# from /proc/iomem ("Kernel code" to "Kernel bss"), or nothing.
image_range() {
	awk -F'[- :]+' '
		/Kernel code/ { s = $2 }
		/Kernel bss/ { e = $3 }
		END { if (s != "" && e != "") print s, e }' /proc/iomem
}

# node_of_phys HEX: the node whose memory block holds that physical address
# (nodeN/memoryM links), or "none".
node_of_phys() {
	local bs blk n
	bs=$(( 0x$(cat /sys/devices/system/memory/block_size_bytes) ))
	blk=$(( 0x$1 / bs ))
	for n in /sys/devices/system/node/node*; do
		if [ -e "$n/memory$blk" ]; then
			echo "${n##*node}"
			return
		fi
	done
	echo none
}
