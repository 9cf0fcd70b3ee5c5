#!/bin/bash
# Compare the test kernel's configuration with Debian's amd64 configuration
# for the memory-related parts of the kernel, and fail while a difference is
# neither fixed nor explained.
#
#   config-compare.sh [DEBIAN_CONFIG [OUR_CONFIG]]
#
#   DEBIAN_CONFIG  default /usr/src/linux-config-6.12/config.amd64_none_amd64.xz
#                  (package linux-config-6.12, same version as linux-source-6.12;
#                  plain or .xz)
#   OUR_CONFIG     default build/out/patched/.config (make kernel-patched)
#   SRC=DIR        Kconfig source tree, default build/linux
#   OFF=FILE       decided-off list, default kernel/config/distro-off.txt:
#                  lines "CONFIG_FOO  reason", '#' comments
#
# Every symbol defined in the Kconfig files below that Debian builds in (=y)
# and OUR_CONFIG does not (=m, not set, or absent because its dependencies
# are off) is printed with both values and its Kconfig file, either as
# "decided off" (listed in OFF, with the reason) or as "undecided".
# Symbols with other values (int, hex, string) that differ are listed for
# information only.  Debian's modules (=m) are not compared.
# Exit status 1 while any symbol is undecided, 2 on a usage or input error.
#
# Which symbols are compared (Kconfig files read from SRC):
#   mm/            every Kconfig* file below it (mm/Kconfig, mm/Kconfig.debug,
#                  mm/damon/Kconfig)
#   drivers/dax/, drivers/base/, drivers/nvdimm/, kernel/bpf/
#                  every Kconfig* file below them (drivers/base/ includes
#                  firmware_loader/, regmap/ and test/)
#   kernel/cgroup/ has no Kconfig: its symbols are init/Kconfig's
#                  "menuconfig CGROUPS" ... "endif # CGROUPS" block
#   io_uring/      has no Kconfig: IO_URING and GCOV_PROFILE_URING
#                  (init/Kconfig) and IO_WQ (fs/Kconfig)
#   hugetlb        fs/Kconfig's HUGETLB* symbols (HUGETLBFS, HUGETLB_PAGE, ...):
#                  defined there, but the code is mm/hugetlb*.c
#   arch/x86/      memory sections of arch/x86/Kconfig: the block of
#                  "Processor type and features" from the "High Memory
#                  Support" choice up to (not including) MATH_EMULATION
#                  (highmem/PAE, 5-level paging, GB pages, memory encryption,
#                  NUMA, AMD_NUMA, X86_64_ACPI_NUMA, NODES_SHIFT, sparsemem,
#                  ARCH_MEMORY_PROBE, X86_PMEM_LEGACY, HIGHPTE, BIOS
#                  corruption check), plus these memory symbols defined
#                  elsewhere in the file, listed in X86_EXTRA below.
#
# Symbols without a prompt ("derived": def_bool, or bool with no text) cannot
# be set in a fragment; they follow from other options (select/depends on).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
SRC=${SRC:-$top/build/linux}
OFF=${OFF:-$top/kernel/config/distro-off.txt}
debian=${1:-/usr/src/linux-config-6.12/config.amd64_none_amd64.xz}
ours=${2:-$top/build/out/patched/.config}
X86_EXTRA="X86_SUPPORTS_MEMORY_FAILURE X86_PAT X86_INTEL_MEMORY_PROTECTION_KEYS
	DYNAMIC_MEMORY_LAYOUT RANDOMIZE_MEMORY RANDOMIZE_MEMORY_PHYSICAL_PADDING
	ARCH_HAS_ADD_PAGES"

die() { echo "config-compare: $*" >&2; exit 2; }

[ $# -le 2 ] || die "usage: config-compare.sh [DEBIAN_CONFIG [OUR_CONFIG]]"
[ -f "$debian" ] || die "no Debian config at $debian: install linux-config-6.12 (apt-get install linux-config-6.12=\$KSRC_VERSION)"
[ -f "$ours" ] || die "no config at $ours: run 'make kernel-patched' or name one"
[ -f "$SRC/mm/Kconfig" ] || die "no Kconfig source at $SRC: run 'make tree'"
[ -f "$OFF" ] || die "no decided-off list at $OFF"
# Absolute paths: the Kconfig files are read from inside SRC.
debian=$(readlink -f "$debian") ours=$(readlink -f "$ours") OFF=$(readlink -f "$OFF")

# Warn (only) when the default .config is older than the fragments.
if [ $# -lt 2 ] && [ -f "$top/build/out/patched/.spm-config-stamp" ]; then
	c=$top/kernel/config
	stamp=$(cat "$c/spm.config" "$c/series.config" "$c/tripwires.config" | sha1sum | cut -d' ' -f1)
	[ "$(cat "$top/build/out/patched/.spm-config-stamp")" = "$stamp" ] ||
		echo "config-compare: warning: $ours predates kernel/config/*.config: run 'make kernel-patched'" >&2
fi

cd "$SRC"
mapfile -t kfiles < <(find mm drivers/dax drivers/base drivers/nvdimm kernel/bpf -name 'Kconfig*' -type f | sort)
if ! { grep -q '^menuconfig CGROUPS' init/Kconfig && grep -q '^endif # CGROUPS' init/Kconfig; }; then
	die "init/Kconfig: CGROUPS block markers not found; update the selection rule"
fi
if ! { grep -q 'prompt "High Memory Support"' arch/x86/Kconfig && grep -q '^config MATH_EMULATION' arch/x86/Kconfig; }; then
	die "arch/x86/Kconfig: memory block markers not found; update the selection rule"
fi

# Debian's config may be compressed.
case "$debian" in
*.xz) debcat() { xz -dc "$debian"; } ;;
*) debcat() { cat "$debian"; } ;;
esac

# Warn (only) when Debian's config is for another kernel version than SRC.
srcver=$(awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3} END{print v"."p"."s}' Makefile)
debver=$(debcat | sed -n '3s/^# Linux\/[^ ]* \([^ ]*\) Kernel Configuration$/\1/p')
[ "$debver" = "$srcver" ] ||
	echo "config-compare: warning: $debian is for Linux ${debver:-?}, the source tree is $srcver" >&2

# One awk: Kconfig symbols (with file and whether they have a prompt), then
# the decided-off list, Debian's config and ours; prints the report.
debcat | awk -v x86extra="$X86_EXTRA" -v offf="$OFF" -v ourf="$ours" \
	-v offname="${OFF#"$top"/}" -v debname="$debian" -v ourname="${ours#"$top"/}" '
BEGIN { gsub(/[ \t\n]+/, " ", x86extra) }
function indent(l,   i, c, w) { w = 0; for (i = 1; i <= length(l); i++) { c = substr(l, i, 1); if (c == "\t") w = w - w % 8 + 8; else if (c == " ") w++; else break } return w }
function flush() { if (sym != "" && !(sym in file)) { file[sym] = cur; prompt[sym] = hasp; order[++n] = sym } sym = "" }
# --- Kconfig files ---------------------------------------------------------
FILENAME != "-" && FILENAME != offf && FILENAME != ourf {
	if (FNR == 1) { flush(); cur = FILENAME; inblock = 0; inhelp = 0 }
	line = $0
	# Help text ends at the first line indented less than its first line.
	if (inhelp) {
		if (line ~ /^[ \t]*$/) next
		if (helpind < 0) helpind = indent(line)
		if (indent(line) >= helpind) next
		inhelp = 0
	}
	if (line ~ /^[ \t]+(help|---help---)[ \t]*$/) { inhelp = 1; helpind = -1; next }
	if (cur == "init/Kconfig") {
		if (line ~ /^menuconfig CGROUPS/) inblock = 1
		take = inblock || line ~ /^config (IO_URING|GCOV_PROFILE_URING)$/
		if (line ~ /^endif # CGROUPS/) inblock = 0
	} else if (cur == "fs/Kconfig") {
		take = line ~ /^(menu)?config (IO_WQ|[A-Z_]*HUGETLB[A-Z0-9_]*)$/
	} else if (cur == "arch/x86/Kconfig") {
		if (line ~ /prompt "High Memory Support"/) inblock = 1
		if (line ~ /^config MATH_EMULATION/) inblock = 0
		take = inblock
		if (match(line, /^[ \t]*(menu)?config[ \t]+[A-Za-z0-9_]+/)) {
			s = line; sub(/^[ \t]*(menu)?config[ \t]+/, "", s); sub(/[ \t].*/, "", s)
			if (index(" " x86extra " ", " " s " ")) take = 1
		}
	} else take = 1
	if (line ~ /^[ \t]*(menu)?config[ \t]+[A-Za-z0-9_]+/) {
		flush()
		if (take) { sym = line; sub(/^[ \t]*(menu)?config[ \t]+/, "", sym); sub(/[ \t#].*/, "", sym); hasp = 0 }
		next
	}
	if (line ~ /^[ \t]*(choice|endchoice|menu|endmenu|if|endif|comment|source)([ \t]|$)/) { flush(); next }
	if (sym != "" && line ~ /^[ \t]+((bool|tristate|string|int|hex)[ \t]+"|prompt[ \t])/) hasp = 1
	next
}
# --- decided-off list ------------------------------------------------------
FILENAME == offf {
	line = $0; sub(/^[ \t]+/, "", line)
	if (line == "" || line ~ /^#/) next
	if (line !~ /^CONFIG_[A-Za-z0-9_]+[ \t]+[^ \t]/) { printf "config-compare: %s:%d: not \"CONFIG_FOO  reason\": %s\n", offname, FNR, $0 > "/dev/stderr"; bad = 1; next }
	s = line; sub(/[ \t].*/, "", s); sub(/^CONFIG_/, "", s)
	r = line; sub(/^[^ \t]+[ \t]+/, "", r)
	if (s in reason) { printf "config-compare: %s:%d: CONFIG_%s listed twice\n", offname, FNR, s > "/dev/stderr"; bad = 1 }
	reason[s] = r; offorder[++noff] = s
	next
}
# --- the two configs -------------------------------------------------------
{
	if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) { s = substr($0, 8, RLENGTH - 8); v = substr($0, RLENGTH + 1) }
	else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { s = $2; sub(/^CONFIG_/, "", s); v = "n" }
	else next
	if (FILENAME == "-") { deb[s] = v; hasdeb[s] = 1 } else { our[s] = v; hasour[s] = 1 }
}
function ourval(s) { return (s in hasour) ? our[s] : "-" }
END {
	flush()
	if (bad) exit 2
	for (i = 1; i <= n; i++) {
		s = order[i]
		if (deb[s] != "y") continue
		o = ourval(s)
		if (o == "y") { same++; continue }
		if (s in reason) off[++noffd] = s; else und[++nund] = s
	}
	fmt = "  %-44s %-5s %-5s %-8s %s\n"
	printf "Debian: %s\nours:   %s\n", debname, ourname
	printf "ours: n = not set, - = absent (its dependencies are off); derived = no prompt, follows from other options\n\n"
	printf "differs, decided off (%s):\n", offname
	for (i = 1; i <= noffd; i++) {
		s = off[i]; o = ourval(s)
		printf fmt, "CONFIG_" s, "y", o, prompt[s] ? "" : "derived", file[s]
		printf "      %s\n", reason[s]
	}
	if (!noffd) print "  (none)"
	printf "\ndiffers, undecided:\n"
	for (i = 1; i <= nund; i++) {
		s = und[i]; o = ourval(s)
		printf fmt, "CONFIG_" s, "y", o, prompt[s] ? "" : "derived", file[s]
	}
	if (!nund) print "  (none)"
	for (i = 1; i <= n; i++) {
		s = order[i]
		if (!(s in hasdeb) || deb[s] ~ /^[ymn]$/ || ourval(s) == deb[s] || (deb[s] == "\"\"" && !(s in hasour))) continue
		if (!ninfo++) printf "\nother values that differ (information only):\n"
		printf fmt, "CONFIG_" s, deb[s], ourval(s), prompt[s] ? "" : "derived", file[s]
	}
	# Entries of the list that no longer match a difference.
	for (i = 1; i <= noff; i++) {
		s = offorder[i]
		if (!(s in file)) why = "not defined in the compared Kconfig files"
		else if (deb[s] != "y") why = "Debian does not build it in"
		else if (ourval(s) == "y") why = "on in our config"
		else continue
		if (!nstale++) printf "\nstale entries in %s (no longer a difference):\n", offname
		printf "  CONFIG_%-37s %s\n", s, why
	}
	for (i = 1; i <= n; i++) if (deb[order[i]] == "y") ndeb++
	printf "\nsummary: %d symbols compared, %d built in by Debian: %d same, %d differ (%d decided off, %d undecided)", n, ndeb, same, noffd + nund, noffd, nund
	if (nstale) printf ", %d stale list entries", nstale
	printf "\n"
	exit nund ? 1 : 0
}
' "${kfiles[@]}" init/Kconfig fs/Kconfig arch/x86/Kconfig "$OFF" - "$ours"
