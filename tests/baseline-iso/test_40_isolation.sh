#!/bin/bash
# Every isolation test proven to discriminate: spm-core's isolation program
# (tests/lib/spm_isolation_tests.h built with SPM_NODE 2; mkinitramfs packs
# every suite's programs into every initramfs, so the baseline one has it
# as /spm/tests/spm-core/test_40_isolation) runs on the baseline kernel,
# with SPM_TEST_NODES=2 standing in for has_spm_memory. A test that passes
# on the stock kernel cannot tell the series from no series.
#
# One result per test of the program, from the lists below:
#   expect_fail  it must fail, and fail for the right reason: one of its
#                failed checks ("file:line:name:Expected ..." lines) must
#                match the pattern, the check on the SPM node's side (a
#                precondition or a control failing instead does not count)
#   expect_pass  positive controls, no isolation check: stock does the same
#   not_applicable  tests that need what only the series has (nodeN/spm/
#                files, has_spm_memory): reported as skipped, with the
#                reason. None today: the isolation tests only switch
#                allow_user when the kernel has it (permit_spm()).
# A test the program runs that no list names fails ("not classified"), and
# so does a listed test that the program did not run ("missing"). One more
# result checks that the program printed all the results it planned.
. /spm/lib/tap.sh

prog=${SPM_ISO_PROG:-/spm/tests/spm-core/test_40_isolation}

# name|ERE matched against the test's failed checks|why it fails on stock
expect_fail=(
	'anon_hog_then_oom_stays_off_spm|== r\.on_spm|self->spm, K_ANON\)|the hog falls back from node 1 to node 2, then fills it before the OOM killer acts'
	'tmpfs_large_file_stays_off_spm|spm_count_in\(counts, self->spm\)|self->spm, K_SHMEM\)|shmem pages fall back to node 2'
	'page_cache_under_pressure_stays_off_spm|spm_count_in\(counts, self->spm\)|self->spm, K_FILE\)|page cache falls back to node 2'
	'task_bound_to_spm_gets_anon_and_shmem_there|spm_count_in\(counts, self->spm\)|self->spm, K_(FILE|SLAB|PAGETABLES)\)|page cache, slab and page tables follow the task policy onto node 2'
	'slab_under_pressure_stays_off_spm|self->spm, K_SLAB\)|slab falls back to node 2'
	'kernel_allocations_under_pressure_stay_off_spm|self->spm, K_(SLAB|KSTACK|PAGETABLES|USED)\)|pipe buffers, stacks, page tables and slab fall back to node 2'
	'thp_faults_under_pressure_stay_off_spm|spm_count_in\(counts, self->spm\)|self->spm, K_ANONHUGE\)|THP faults fall back to node 2'
	'thp_collapse_stays_off_spm|self->spm, K_ANONHUGE\)|on_spm == mix_spm|MADV_COLLAPSE puts the huge page on the node holding most small pages: node 2'
	'khugepaged_collapse_stays_off_spm|self->spm, K_ANONHUGE\)|on_spm == mix_spm|khugepaged puts the huge page on the node holding most small pages: node 2'
	'ksm_never_merges_spm_pages|b_shared|b_excl|ksmd merges the pages on node 2 with their SysRAM copies'
	'numa_balancing_stays_off_spm|r\.b_on_spm_min|r\.b_on_node1_max|self->spm, K_ANON\)|NUMA balancing migrates the pages on node 2 to the faulting CPU node'
	'compaction_stays_off_spm|spm_count_in\(counts, self->spm\)|self->spm, K_ANONHUGE\)|THP faults that compaction cannot serve on node 1 fall back to node 2'
	'io_uring_rings_and_buffers_under_pressure_stay_off_spm|ring_on_spm|buf_on_spm|self->spm, K_(USED|ANON|SLAB)\)|io_uring SQ/CQ rings, SQE arrays and the pages of registered buffers fall back to node 2'
	'bpf_maps_under_pressure_stay_off_spm|array_on_spm|arena_on_spm|self->spm, K_USED\)|the mmapable BPF array (vmalloc) and the pages arena faults allocate fall back to node 2'
	'secretmem_under_pressure_stays_off_spm|secret_on_spm|self->spm, K_(FILE|USED)\)|memfd_secret pages fall back to node 2'
	'soft_offline_under_pressure_stays_off_spm|moved_on_spm|MADV_SOFT_OFFLINE replaces the pages of full node 1 with pages of node 2, next in its fallback order'
	'zram_pool_under_pressure_stays_off_spm|pool_on_spm|self->spm, K_USED\)|zsmalloc pool pages of zram writes from CPU 1 fall back to node 2'
	'hugetlb_pool_and_surplus_stay_off_spm|pool_on_spm|huge_on_spm|surplus_on_spm|self->spm, K_USED\)|the global hugetlb pool goes round-robin over node 2, and surplus huge pages faulted from CPU 1 fall back to node 2'
)
# name|why it passes on stock too
expect_pass=(
	'thp_collapse_of_spm_pages_stays_on_that_node|positive control: pages the task bound to the node collapse there, with or without the series'
)
# name|why it cannot run on the baseline kernel
not_applicable=()

# Patterns contain "|": the name is the first field, the reason the last,
# the pattern what is between.
name_of() { echo "${1%%|*}"; }
last_of() { echo "${1##*|}"; }
pattern_of() { local s=${1#*|}; echo "${s%|*}"; }

out=$(SPM_TEST_NODES=2 "$prog" 2>&1)
rc=$?

declare -A listed=()
for e in "${expect_fail[@]}" "${expect_pass[@]}" "${not_applicable[@]}"; do
	listed[$(name_of "$e")]=1
done
ran=$(sed -n 's/^\(not \)\{0,1\}ok [0-9][0-9]* iso\.\([A-Za-z0-9_]*\).*/\2/p' <<< "$out")
unlisted=$(for n in $ran; do [ -n "${listed[$n]-}" ] || echo "$n"; done)

tap_plan $(( ${#listed[@]} + $(wc -w <<< "$unlisted") + 1 ))
tap_diag "$prog (SPM_TEST_NODES=2) exited $rc; its output:"
sed 's/^/# | /' <<< "$out"

# The result line of test $1: "ok", "not ok", "skip" or "" (did not run).
result_of() {
	local l
	l=$(grep -E "^(not )?ok [0-9]+ iso\.$1( |$)" <<< "$out" | head -1)
	case "$l" in
	"") echo "" ;;
	*"# SKIP"*) echo skip ;;
	not*) echo "not ok" ;;
	*) echo ok ;;
	esac
}

for e in "${expect_fail[@]}"; do
	n=$(name_of "$e") why=$(last_of "$e") pat=$(pattern_of "$e")
	checks=$(grep -E ":$n:Expected " <<< "$out" | sed 's/^# [^:]*:[0-9]*://')
	case "$(result_of "$n")" in
	"not ok")
		right=$(grep -E -- "$pat" <<< "$checks" | head -3)
		if [ -n "$right" ]; then
			tap_diag "$right"
			tap_ok "$n fails on baseline as expected ($why)"
		else
			tap_fail "$n fails on baseline for the right reason ($why)" \
				"no failed check matches /$pat/; failed checks: ${checks:-none (a precondition or the fixture?)}"
		fi ;;
	ok) tap_fail "$n passed on baseline: does not discriminate" "expected to fail: $why" ;;
	skip) tap_fail "$n was skipped on baseline" "expected to fail: $why" ;;
	*) tap_fail "$n is missing: the program did not run it" "expected to fail: $why" ;;
	esac
done
for e in "${expect_pass[@]}"; do
	n=$(name_of "$e") why=$(last_of "$e")
	case "$(result_of "$n")" in
	ok) tap_ok "$n passes on baseline ($why)" ;;
	"") tap_fail "$n is missing: the program did not run it" "expected to pass: $why" ;;
	*) tap_fail "$n passes on baseline ($why)" \
		"$(grep -E ":$n:Expected " <<< "$out" | sed 's/^# [^:]*:[0-9]*://')" ;;
	esac
done
for e in "${not_applicable[@]}"; do
	tap_skip "$(name_of "$e") not applicable on baseline" "$(last_of "$e")"
done
for n in $unlisted; do
	tap_fail "$n is classified for baseline" \
		"not classified: add it to expect_fail, expect_pass or not_applicable in $0 ($(result_of "$n") on baseline)"
done

planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<< "$out" | head -1)
tap_is "the program printed all its planned results" "${planned:-no plan}" "$(wc -w <<< "$ran")"

tap_done
