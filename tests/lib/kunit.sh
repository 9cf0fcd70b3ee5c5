# KUnit test modules as TAP, from KUnit's debugfs results (guest side,
# /spm/lib/kunit.sh):
#
#   . /spm/lib/kunit.sh
#   kunit_run MODULE "SUITE..." [PARAM=VALUE...]
#
# Loads MODULE (KUnit runs the module's suites when it loads), checks that
# the suites it added under /sys/kernel/debug/kunit/ are exactly the
# SUITEs named, reads each suite's results file and prints one TAP result
# per KUnit test case, "ok N suite.case" (a parameterised case is one
# result, its parameters are comments), then unloads MODULE.  The kernel
# log plays no part: what counts is what KUnit recorded for each case.
#
# The results file (lib/kunit/debugfs.c) is the KTAP of one suite:
#
#   KTAP version 1
#   1..1
#       KTAP version 1
#       # Subtest: SUITE
#       1..N
#       # case_a: a diagnostic          (the cases' logs, lib/kunit/test.c)
#       ok 1 case_a
#       not ok 2 case_b
#       ...
#   # SUITE: pass:1 fail:1 skip:0 total:2   (the suite's log)
#   not ok 1 SUITE
#
# The plan is computed from the files: each suite's N (the cases it
# lists), plus one result per suite ("SUITE: results file"), plus one for
# the set of suites.  Failures, each a "not ok":
#   - no /sys/kernel/debug/kunit: CONFIG_KUNIT_DEBUGFS missing (the whole
#     program is then that one result);
#   - MODULE does not load (likewise);
#   - the suites MODULE added are not the SUITEs named;
#   - a results file missing or empty, not the KTAP above, naming another
#     suite, or ending without the suite's result line;
#   - a case number not above the previous one, or beyond N (the suite's
#     result); a case of 1..N with no result line ("not ok N
#     suite.case-K: no result");
#   - a suite result that disagrees with its cases (a failed suite with no
#     failed case is a suite_init failure).
# The exit status is 1 when any result is "not ok".
#
#   kunit_suite_lines SUITE FILE [NAME]   the results of one suite
#                                  (FILE, called NAME in messages),
#                                  unnumbered: "R ok DESC", "R not ok DESC",
#                                  "# ..."
#   kunit_number                   unnumbered lines (stdin) to TAP with
#                                  the plan; status 1 on any "not ok"
# (both run on the host too, against a saved results file).

KUNIT_DIR=${KUNIT_DIR:-/sys/kernel/debug/kunit}

kunit_suite_lines() {
	name=${3:-$2}
	if [ ! -e "$2" ]; then
		echo "R not ok $1: results file: $name does not exist"
		return
	fi
	if [ ! -s "$2" ]; then
		echo "R not ok $1: results file: $name is empty"
		return
	fi
	awk -v suite="$1" -v file="$name" '
	function err(msg) {
		if (nerr++ < 5) errs[nerr] = msg
	}
	function diag(s) {
		sub(/^ +/, "", s)
		sub(/^# ?/, "", s)
		print "# " suite ": " s
	}
	{ sub(/\r$/, "") }
	NR == 1 { if ($0 != "KTAP version 1") err("line 1 is not \"KTAP version 1\": " $0); next }
	NR == 2 { if ($0 != "1..1") err("line 2 is not \"1..1\": " $0); next }
	NR == 3 { if ($0 != "    KTAP version 1") err("line 3 is not \"    KTAP version 1\": " $0); next }
	NR == 4 {
		if ($0 != "    # Subtest: " suite) err("line 4 names another suite: " $0)
		next
	}
	NR == 5 {
		if ($0 ~ /^    1\.\.[0-9]+$/) plan = substr($0, 8) + 0
		else err("line 5 is not the plan \"    1..N\": " $0)
		next
	}
	ended { err("text after the suite result: " $0); next }
	/^(not )?ok [0-9]+ / {
		# the suite result, the last line
		ended = 1
		suite_failed = ($0 ~ /^not /)
		line = $0
		sub(/^(not )?ok /, "", line)
		if (line !~ /^1 /) err("suite result numbered other than 1: " $0)
		sub(/^[0-9]+ /, "", line)
		sub(/ *#.*$/, "", line)
		if (line != suite) err("suite result names another suite: " $0)
		next
	}
	/^    (not )?ok [0-9]+( |$)/ {
		line = substr($0, 5)
		failed = (line ~ /^not /)
		sub(/^(not )?ok /, "", line)
		num = line + 0
		sub(/^[0-9]+ */, "", line)
		if (num <= last) {
			err(sprintf("case %d after case %d", num, last))
		} else if (num > plan) {
			err(sprintf("case %d beyond the plan 1..%d", num, plan))
		} else {
			# a gap is reported at the end: those cases have no result
			printf "R %s %s.%s\n", failed ? "not ok" : "ok", suite, line
			if (failed && line !~ /# *SKIP/) nfailed++
			got[num] = 1
			last = num
		}
		next
	}
	{ diag($0) }
	END {
		if (NR < 5) err(sprintf("%d lines: not the KTAP of a suite", NR))
		else if (!ended) err("no suite result line (\"ok 1 " suite "\")")
		for (k = 1; k <= plan; k++)
			if (!(k in got))
				printf "R not ok %s.case-%d: no result in the results file\n", suite, k
		if (ended && suite_failed && !nfailed)
			err("the suite failed with no failed case (suite_init?)")
		if (ended && !suite_failed && nfailed)
			err("the suite passed with " nfailed " failed cases")
		for (k = 1; k <= nerr && k <= 5; k++)
			print "# " suite ": " file ": " errs[k]
		if (nerr > 5) print "# " suite ": ... and " nerr - 5 " more"
		printf "R %s %s: results file: %d cases, %s\n", nerr ? "not ok" : "ok",
			suite, plan < 0 ? 0 : plan, nerr ? "malformed" : "well formed, the suite result agrees"
	}' "$2"
}

kunit_number() {
	awk '
	{ line[NR] = $0; if ($0 ~ /^R /) n++ }
	END {
		print "TAP version 13"
		print "1.." n
		for (i = 1; i <= NR; i++) {
			l = line[i]
			if (l !~ /^R /) { print l; continue }
			l = substr(l, 3)
			if (l ~ /^not ok /) { bad = 1; printf "not ok %d %s\n", ++k, substr(l, 8) }
			else printf "ok %d %s\n", ++k, substr(l, 4)
		}
		exit bad
	}'
}

# The suites under $KUNIT_DIR, one line, sorted.
kunit_suites_now() {
	for d in "$KUNIT_DIR"/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		echo "${d##*/}"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# One failed result for a program that cannot go on.
kunit_bail() {
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 $1"
	exit 1
}

kunit_run() {
	mod=${1:?usage: kunit_run MODULE "SUITE..." [PARAM=VALUE...]}
	want=$(printf '%s\n' $2 | sort | tr '\n' ' ' | sed 's/ $//')
	shift 2
	[ -n "$want" ] || kunit_bail "kunit $mod: no suite named"

	# /init mounts debugfs; mount it if not (only for the real KUNIT_DIR)
	[ "$KUNIT_DIR" != /sys/kernel/debug/kunit ] ||
		grep -q '^[^ ]* /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	if [ ! -d "$KUNIT_DIR" ]; then
		zcat /proc/config.gz 2>/dev/null | grep -E '^(# )?CONFIG_KUNIT_DEBUGFS[= ]' | sed 's/^/# /'
		kunit_bail "kunit $mod: CONFIG_KUNIT_DEBUGFS missing: no $KUNIT_DIR, where the results are read"
	fi
	if grep -q "^$mod " /proc/modules; then
		modprobe -r "$mod" 2>/dev/null ||
			kunit_bail "kunit $mod: already loaded and cannot be unloaded (stale results)"
	fi
	before=$(kunit_suites_now)
	out=$(modprobe "$mod" "$@" 2>&1) || {
		echo "$out" | sed 's/^/# /'
		kunit_bail "kunit $mod: modprobe $mod failed"
	}
	after=$(kunit_suites_now)
	# The suites the module added: under $KUNIT_DIR now and not before.
	got=$(for s in $after; do
		case " $before " in *" $s "*) ;; *) echo "$s" ;; esac
	done | sort | tr '\n' ' ' | sed 's/ $//')

	tmp=$(mktemp -d)
	{
		if [ "$got" = "$want" ]; then
			echo "R ok kunit $mod: its suites are: $want"
		else
			echo "# kunit $mod: expected the suites '$want', the module added '$got'"
			echo "R not ok kunit $mod: its suites are: $want"
		fi
		for s in $want; do
			# Copied first: reading the file while the module goes
			# away is not an option.
			cat "$KUNIT_DIR/$s/results" > "$tmp/$s" 2>/dev/null || rm -f "$tmp/$s"
			kunit_suite_lines "$s" "$tmp/$s" "$KUNIT_DIR/$s/results"
		done
	} > "$tmp/lines"
	modprobe -r "$mod" 2>/dev/null || echo "# kunit $mod: modprobe -r $mod failed" >> "$tmp/lines"
	kunit_number < "$tmp/lines"
	rc=$?
	rm -rf "$tmp"
	return $rc
}
