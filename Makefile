# SPM NUMA nodes: the front door.
#
#   make demo    build everything needed and walk through the feature in a VM
#   make test    build everything needed and run every test in VMs
#
# See README.md for the layout and the development loop.

KSRC_VERSION ?= 6.12.117-1~deb12u1
BUILD        ?= $(CURDIR)/build
KERNEL       ?= patched
export KSRC_VERSION BUILD

.PHONY: all deps tree export kernel kernel-patched kernel-baseline kernel-debug \
	kernels modules userprogs initramfs vm test demo checkpatch clean distclean

all: kernel

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh prepare

export: deps
	@scripts/tree.sh export

kernel: kernel-$(KERNEL)

kernel-patched kernel-baseline kernel-debug: kernel-%: tree
	@scripts/build-kernel.sh $*

kernels: kernel-patched kernel-baseline kernel-debug

clean:
	rm -rf $(BUILD)/out $(BUILD)/tests $(BUILD)/initramfs*

distclean:
	rm -rf $(BUILD)
