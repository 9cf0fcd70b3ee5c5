# Shell helpers for TAP test scripts (guest side, /spm/lib/tap.sh).
#
#   . /spm/lib/tap.sh
#   tap_plan 3
#   tap_check "numactl starts" numactl --hardware
#   tap_is "node count" 4 "$n"
#   tap_skip "needs SPM" "has_spm_memory missing"
#   tap_done            # exit status 1 when any test failed
#
# Output is the TAP subset kselftest prints, so the host runner reads C and
# shell tests alike.
#
# Getters (node_meminfo, file_key, cram.sh's v) never print an empty value
# for a missing file or key: they print tap_missing's word, which fails
# every check it reaches.

TAP_N=0
TAP_FAILED=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

tap_ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1"
}

tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	[ $# -gt 1 ] && tap_diag "$2"
	echo "not ok $TAP_N $1"
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1 # SKIP ${2:-}"
}

# tap_check DESC CMD...: passes when CMD exits 0; its output is shown on failure.
tap_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$* exited $rc: $out"
	fi
}

# tap_is DESC EXPECTED ACTUAL
tap_is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected '$2', got '$3'"
	fi
}

# tap_between DESC LOW HIGH ACTUAL  (integers, inclusive)
tap_between() {
	if [ -n "$4" ] && [ "$4" -ge "$2" ] 2>/dev/null && [ "$4" -le "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected $2..$3, got '$4'"
	fi
}

# tap_missing WHAT: what a getter prints for a value it cannot find (WHAT,
# without spaces, names the file and key), after a diagnostic on stderr:
# a word that is no number (arithmetic on it is an error that drops the
# check, and the plan comes up short) and, under bash, differs from every
# other missing value (the subshell's pid): two never compare equal.
tap_missing() {
	echo "# missing: $1" >&2
	echo "missing:$1@${BASHPID:-$$}"
}

# file_key FILE KEY: the value on the line "KEY value" or "KEY: value" of
# FILE (/proc/vmstat, /proc/meminfo, nodeN/numastat, memory.stat ...)
file_key() {
	awk -v k="$2" '$1 == k || $1 == k ":" { print $2; f = 1; exit } END { exit !f }' \
		"$1" 2>/dev/null || tap_missing "$1:$2"
}

# node_meminfo NID KEY: a field of nodeNID/meminfo in kB
node_meminfo() {
	local f=/sys/devices/system/node/node$1/meminfo

	awk -v k="$2:" '$3 == k { print $4; f = 1 } END { exit !f }' "$f" 2>/dev/null ||
		tap_missing "$f:$2"
}

# node_pcp_kb NID: kB of free pages in the node's per-cpu lists (free, but
# counted in MemUsed)
node_pcp_kb() {
	awk -v n="$1," '/^Node/ { on = ($2 == n) } on && $1 == "count:" { s += $2 } END { print s * 4 }' /proc/zoneinfo
}

# try_write FILE VALUE: prints "ok", or the error text of the write
try_write() {
	local err
	err=$( { echo "$2" > "$1"; } 2>&1 ) && { echo ok; return; }
	echo "${err##*: }"
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}
