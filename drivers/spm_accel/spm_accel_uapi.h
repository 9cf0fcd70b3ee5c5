/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * spm_accel: user interface of the sample accelerator that owns an SPM
 * node (/dev/spm_accel).  Shared by the driver, tools/spm-accel.c and the
 * tests (through tests/lib/spm_accel.h).
 *
 * Two kinds of memory:
 *
 * Driver-owned memory.  mmap(MAP_SHARED) of the device gives a buffer that
 * belongs to the open file (a file opened read-only maps read-only).  The
 * first CPU touch of a page faults; the driver allocates the page on its
 * SPM node and maps it.  A range is handed to the device with
 * SPM_ACCEL_IOC_TO_DEVICE (the CPU mappings are removed: any CPU access to
 * it gets SIGBUS) and back with SPM_ACCEL_IOC_TO_CPU.  SPM_ACCEL_IOC_HANDOVER
 * with SPM_ACCEL_CPU_READ hands a range to the device but lets the CPU keep
 * reading it (see there).  Device commands
 * (SPM_ACCEL_IOC_EXEC) address it by byte offset in the file and run only
 * on device-owned pages.  The mapping has no struct page behind it as far
 * as the rest of the kernel can see (VM_PFNMAP): whatever needs a page
 * reference to user memory fails on it with EFAULT (vmsplice(), O_DIRECT
 * I/O, process_vm_readv(), long-term pins such as RDMA or io_uring fixed
 * buffers, and SPM_ACCEL_IOC_MIRROR of the mapping itself); ptrace and
 * /proc/PID/mem read and write CPU-owned pages and get EIO on device-owned
 * ones.  The driver may move its pages within the node (compaction, memory
 * offline), which the CPU and the device do not notice.
 *
 * Memory of the device.  An open file may hold at most its page limit of
 * driver-owned pages (SPM_ACCEL_IOC_LIMIT; the module parameter max_pages,
 * 0 for none, is the default of new files and the ceiling of unprivileged
 * callers).  The device keeps a reserve of pages on its node (module
 * parameter reserve_pages, allocated at load time: the module does not
 * load without it; it is clamped to SPM_ACCEL_MAX_BYTES worth of pages,
 * spm_accel_limit.reserve_size tells the size in force), so that its
 * allocations go on when user placement (mbind() on the node, module
 * parameter user=1) has filled the node: an allocation the node cannot
 * serve takes a page from the reserve, and the reserve is topped up again
 * from the pages of closed files and, after pages were freed on the node,
 * from the node (started by the next open(2), page allocation, release or
 * SPM_ACCEL_IOC_LIMIT).  The reserve holds pages of the node only: one that
 * memory offline moves off the node leaves the reserve.
 *
 * Managed user memory.  SPM_ACCEL_IOC_MIRROR registers a range of the
 * caller's address space; the device mirrors its CPU page tables
 * (hmm_range_fault() and an MMU interval notifier).  Device commands with
 * SPM_ACCEL_OP_USER address it by virtual address.  SPM_ACCEL_IOC_RECLAIM
 * reclaims from the device's node only (spm_node_reclaim()).
 */
#ifndef _UAPI_SPM_ACCEL_H
#define _UAPI_SPM_ACCEL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SPM_ACCEL_DEVICE	"/dev/spm_accel"

/* Largest driver-owned buffer, and the largest mirror or command. */
#define SPM_ACCEL_MAX_BYTES	(1ULL << 30)
/* Mirrors one open file may hold. */
#define SPM_ACCEL_MAX_MIRRORS	16
/* Nodes counted in spm_accel_op.node_pages. */
#define SPM_ACCEL_MAX_NODES	8

/**
 * struct spm_accel_range - a page-aligned range
 * @start: byte offset in the device file (driver-owned memory), or user
 *	virtual address (mirrors).
 * @length: length in bytes, a non-zero multiple of the page size.
 */
struct spm_accel_range {
	__u64 start;
	__u64 length;
};

/*
 * spm_accel_handover.flags
 *
 * SPM_ACCEL_CPU_READ: the device owns the range (its commands may read and
 * write it) and the CPU may still read it: CPU reads map the pages
 * read-only, take no ownership back and see what the device writes (the
 * CPU and the device share the pages: there is no copy to go stale).  A CPU
 * write to such a page, a write fault, waits for the command the device may
 * be running on the file's memory and takes that page, and only that page,
 * back for the CPU (as SPM_ACCEL_IOC_TO_CPU would): the write proceeds, the
 * rest of the range stays with the device, and device commands over the
 * page fail with EACCES until it is handed over again.  ptrace() and
 * /proc/PID/mem follow the same rules.  Handing a device-owned range over
 * again changes its mode: without SPM_ACCEL_CPU_READ, CPU reads are gone.
 * CPU reads are not ordered with device commands: a read while a command
 * (FILL, XOR) runs on the range may see any mix of the old and the new
 * bytes, even within one 64-bit word or one page; only a read after
 * SPM_ACCEL_IOC_EXEC returned sees all of the command's writes.
 */
#define SPM_ACCEL_CPU_READ	(1U << 0)

/**
 * struct spm_accel_handover - a range of driver-owned memory for the device
 * @start: byte offset in the device file, page aligned.
 * @length: length in bytes, a non-zero multiple of the page size.
 * @flags: 0 (as SPM_ACCEL_IOC_TO_DEVICE: the CPU may not access the range)
 *	or SPM_ACCEL_CPU_READ.
 * @reserved: 0.
 */
struct spm_accel_handover {
	__u64 start;
	__u64 length;
	__u32 flags;
	__u32 reserved;
};

/* spm_accel_limit.flags */
#define SPM_ACCEL_LIMIT_SET	(1U << 0)	/* set max_pages; else read only */

/**
 * struct spm_accel_limit - the open file's page limit, the device's reserve
 * @max_pages: in, with SPM_ACCEL_LIMIT_SET: the file's new limit of
 *	driver-owned pages, 0 for none; out: the limit now.  A limit below
 *	the pages the file holds takes none away: only new pages are refused.
 * @flags: SPM_ACCEL_LIMIT_SET, or 0 to read only.
 * @reserved: 0.
 * @pages: out: driver-owned pages of the file.
 * @limit_failures: out: page allocations of the file its limit refused.
 * @reserve_pages: out: pages in the device's reserve now (all files).
 * @reserve_size: out: pages the reserve holds when full (module parameter
 *	reserve_pages, clamped to SPM_ACCEL_MAX_BYTES worth of pages).
 * @reserve_allocs: out: pages the device's files took from the reserve
 *	since the module loaded.
 */
struct spm_accel_limit {
	__u64 max_pages;
	__u32 flags;
	__u32 reserved;
	__u64 pages;
	__u64 limit_failures;
	__u64 reserve_pages;
	__u64 reserve_size;
	__u64 reserve_allocs;
};

/* spm_accel_op.cmd */
enum spm_accel_cmd {
	SPM_ACCEL_CMD_CHECKSUM = 1,	/* FNV-1a 64 of the bytes -> result */
	SPM_ACCEL_CMD_FILL = 2,		/* every 64-bit word = arg */
	SPM_ACCEL_CMD_XOR = 3,		/* every 64-bit word ^= arg */
};

/* spm_accel_op.flags */
#define SPM_ACCEL_OP_USER	(1U << 0)	/* addr is a mirrored user VA */

/**
 * struct spm_accel_op - a command for the device engine
 * @cmd: enum spm_accel_cmd.
 * @flags: SPM_ACCEL_OP_*.
 * @addr: file offset or, with SPM_ACCEL_OP_USER, user virtual address;
 *	page aligned.
 * @length: bytes, a non-zero multiple of the page size.
 * @arg: FILL pattern or XOR key.
 * @nodes_ptr: 0, or a user array of one __s32 per page that receives the
 *	node of each page as the device saw it.
 * @result: out: the checksum (CHECKSUM).
 * @pages: out: pages processed.
 * @faulted: out: pages the device had to fault in through the CPU page
 *	tables for this command (mirrors; 0 for driver-owned memory).
 * @invalidations: out: invalidations the mirror has seen so far.
 * @node_pages: out: pages processed per node (nodes below
 *	SPM_ACCEL_MAX_NODES).
 */
struct spm_accel_op {
	__u32 cmd;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u64 arg;
	__u64 nodes_ptr;
	__u64 result;
	__u64 pages;
	__u64 faulted;
	__u64 invalidations;
	__u32 node_pages[SPM_ACCEL_MAX_NODES];
};

/**
 * struct spm_accel_info - state of the device and of one open file
 * @nid: the SPM node the device owns.
 * @user: whether user placement (mbind) on the node is permitted.
 * @dev_pages: driver-owned pages allocated now, all files.
 * @dev_faults: CPU faults on driver-owned memory, all files.
 * @dev_alloc_failures: failed page allocations, all files.
 * @dev_ops: commands the engine ran, all files.
 * @dev_invalidations: mirror invalidations, all files.
 * @dev_mirror_faults: pages faulted in for mirrors, all files.
 * @node_pages_freed: pages freed on the node (any owner; pages_freed
 *	callback).
 * @folios_arrived: folios migrated onto the node (folio_arrived callback).
 * @pressure: low-watermark events on the node (pressure callback).
 * @pages: driver-owned pages of this file.
 * @device_pages: of those, the pages the device owns.
 * @faults: CPU faults on this file's memory.
 * @alloc_failures: failed page allocations for this file.
 * @ops: commands run for this file.
 * @invalidations: invalidations of this file's mirrors.
 * @mirror_faults: pages faulted in for this file's mirrors.
 * @mirrors: mirrors registered on this file.
 */
struct spm_accel_info {
	__s32 nid;
	__u32 user;
	__u64 dev_pages;
	__u64 dev_faults;
	__u64 dev_alloc_failures;
	__u64 dev_ops;
	__u64 dev_invalidations;
	__u64 dev_mirror_faults;
	__u64 node_pages_freed;
	__u64 folios_arrived;
	__u64 pressure;
	__u64 pages;
	__u64 device_pages;
	__u64 faults;
	__u64 alloc_failures;
	__u64 ops;
	__u64 invalidations;
	__u64 mirror_faults;
	__u64 mirrors;
};

#define SPM_ACCEL_IOC_MAGIC	0xA5

/*
 * Errors.  Every request may fail with
 *   EFAULT  a bad argument pointer (or spm_accel_op.nodes_ptr);
 *   EINTR   a signal arrived while the call waited for a lock of the file
 *	     or for its command's turn on the device's engine (shared by all
 *	     files): nothing was done, and with SA_RESTART the call restarts.
 *	     A command the engine has started runs to its end despite a
 *	     signal, except a fatal one (the caller dies; the command stops
 *	     part-way);
 *   ENOTTY  a request the device does not have.
 * And by request:
 *   TO_DEVICE, HANDOVER
 *		EINVAL  a bad range; HANDOVER: unknown flags, or reserved
 *			not 0;
 *		EDQUOT  the range lacks more pages than the file's page
 *			limit leaves it: nothing is allocated, nothing
 *			changes hands;
 *		ENOMEM  the node, reserve included, has no free memory for
 *			the pages the range still lacks (or the kernel none
 *			for the device page table): the range stays with the
 *			CPU, and the pages the call allocated are given back
 *			(to the reserve first); so does EINTR.
 *   TO_CPU     EINVAL  a bad range.
 *   LIMIT      EINVAL  unknown flags, reserved not 0, or max_pages above
 *			SPM_ACCEL_MAX_BYTES worth of pages;
 *		EPERM   the module parameter max_pages is set and the caller,
 *			without CAP_SYS_ADMIN, asked for no limit or for a
 *			higher one;
 *		EFAULT  also when the structure can be read but not
 *			written back: the limit is not changed then.
 *   EXEC       EINVAL  a bad cmd, flags, addr or length;
 *		EACCES  driver-owned memory: not every page of the range is
 *			device-owned; SPM_ACCEL_OP_USER: the range is not
 *			inside one mirror the caller registered on this file;
 *		EFAULT  SPM_ACCEL_OP_USER: part of the range is not mapped,
 *			is not writable for FILL and XOR (as for write(2)
 *			into it), or is not memory the device can mirror
 *			(VM_IO or VM_PFNMAP mappings, such as this device's);
 *		EBUSY   SPM_ACCEL_OP_USER: the range kept being invalidated
 *			(unmapped, migrated) for 5 seconds;
 *		ENOMEM  no kernel memory for the per-page node array.
 *   MIRROR     EINVAL  a bad range (beyond the user address space, or
 *			longer than SPM_ACCEL_MAX_BYTES);
 *		EEXIST  it overlaps a mirror of the caller on this file;
 *		ENOSPC  the file has SPM_ACCEL_MAX_MIRRORS mirrors already;
 *		ENOMEM  no kernel memory for the mirror.
 *   UNMIRROR   ENOENT  no mirror of exactly this range of the caller.
 *   RECLAIM    EPERM   the caller lacks CAP_SYS_ADMIN;
 *		EINVAL  0 pages, or more than SPM_ACCEL_MAX_BYTES worth.
 *   open(2)    ENOMEM  no kernel memory for the file.
 *   mmap(2)    EINVAL  not MAP_SHARED, or beyond SPM_ACCEL_MAX_BYTES.
 * A CPU access to a device-owned page (a write, if the range was handed
 * over with SPM_ACCEL_CPU_READ, takes the page back instead), a first
 * touch when the node and the reserve are full, and a first touch beyond
 * the file's page limit raise SIGBUS; ptrace() and /proc/PID/mem get EIO
 * there.
 *
 * Every structure has the same layout for 32- and 64-bit callers (each
 * __u64 at a multiple of 8 bytes, sizes multiples of 8).
 */
#define SPM_ACCEL_IOC_INFO	_IOR(SPM_ACCEL_IOC_MAGIC, 0, struct spm_accel_info)
#define SPM_ACCEL_IOC_TO_DEVICE	_IOW(SPM_ACCEL_IOC_MAGIC, 1, struct spm_accel_range)
#define SPM_ACCEL_IOC_TO_CPU	_IOW(SPM_ACCEL_IOC_MAGIC, 2, struct spm_accel_range)
#define SPM_ACCEL_IOC_EXEC	_IOWR(SPM_ACCEL_IOC_MAGIC, 3, struct spm_accel_op)
#define SPM_ACCEL_IOC_MIRROR	_IOW(SPM_ACCEL_IOC_MAGIC, 4, struct spm_accel_range)
#define SPM_ACCEL_IOC_UNMIRROR	_IOW(SPM_ACCEL_IOC_MAGIC, 5, struct spm_accel_range)
/*
 * Reclaim from the device's node and no other: in, the pages wanted; out,
 * the pages reclaimed.  Needs CAP_SYS_ADMIN.
 */
#define SPM_ACCEL_IOC_RECLAIM	_IOWR(SPM_ACCEL_IOC_MAGIC, 6, __u64)
/* TO_DEVICE with flags (SPM_ACCEL_CPU_READ). */
#define SPM_ACCEL_IOC_HANDOVER	_IOW(SPM_ACCEL_IOC_MAGIC, 7, struct spm_accel_handover)
/* Read, or set, the file's page limit; reports the device's reserve. */
#define SPM_ACCEL_IOC_LIMIT	_IOWR(SPM_ACCEL_IOC_MAGIC, 8, struct spm_accel_limit)

#endif /* _UAPI_SPM_ACCEL_H */
