#!/bin/bash
# tools/spm-accel exercises both modes and checks itself (exit status 1 on
# any mismatch); its output is shown as diagnostics.
. /spm/lib/tap.sh

tap_plan 5

run() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	tap_diag "$out"
	if [ $rc -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$* exited $rc"
	fi
}

run "spm-accel owned 64" spm-accel owned 64
run "spm-accel cpuread 64" spm-accel cpuread 64
run "spm-accel managed 64" spm-accel managed 64
run "spm-accel faultbench 2048" spm-accel faultbench 2048
tap_is "no device page left behind" 0 "$(cat /sys/class/misc/spm_accel/pages)"

tap_done
