#!/bin/bash
# Build the base initramfs of one kernel flavor:
#   build/initramfs-<flavor>.cpio.gz
#
# Contents: busybox (static) and its applet links, /init, real Debian tools
# with their shared libraries and loader, the kernel's modules tree
# (build/out/<flavor>/modroot) plus the project's out-of-tree modules in
# extra/ (depmod rerun), test programs in /spm/tests/<suite>/ and tools in
# /spm/bin/.
#
# Rebuilt only when an input changed (a manifest of the inputs' names,
# sizes and times is kept next to the archive).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
flavor=${1:?usage: mkinitramfs.sh patched|baseline|debug}
out=$BUILD/out/$flavor
image=$BUILD/initramfs-$flavor.cpio.gz
manifest=$BUILD/initramfs-$flavor.manifest

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ -f "$out/include/config/kernel.release" ] ||
	die "no $flavor kernel in $out: run 'make kernel-$flavor'"
release=$(cat "$out/include/config/kernel.release")
modsrc=$out/modroot/lib/modules/$release
[ -d "$modsrc" ] || die "$modsrc missing: run 'make kernel-$flavor'"

# Real tools copied from the host, with their libraries. numastat is optional.
# dash is /bin/sh: Debian's busybox runs its own applets in preference to
# anything in PATH, so a busybox /bin/sh would shadow kmod's modprobe and
# friends; bash is there for scripts and the interactive shell.
TOOLS="numactl migratepages memhog numastat ndctl daxctl stress-ng kmod dash bash"
KMOD_LINKS="modprobe insmod rmmod lsmod modinfo depmod"

tool_paths() {
	local t p
	for t in $TOOLS; do
		p=$(command -v "$t" || true)
		if [ -z "$p" ]; then
			[ "$t" = numastat ] && continue
			die "host tool '$t' missing: run 'make deps'"
		fi
		readlink -f "$p"
	done
}

# --- the series' kselftest: tools/testing/selftests/mm/spm_nodes.c of
# build/linux (or $SPM_SELFTEST_SRC), built by make userprogs; left out,
# like its binary, when there is no source. Its source is an input.
selftest=$BUILD/tests/selftests/spm_nodes
selftest_src=${SPM_SELFTEST_SRC:-$BUILD/linux/tools/testing/selftests/mm/spm_nodes.c}
# --- end of the series' kselftest

# Every input, as "path size mtime" lines, for the up-to-date check.
inputs() {
	local f
	{
		echo "release $release"
		for f in "$0" "$top/scripts/initramfs/init" /usr/bin/busybox $(tool_paths); do
			echo "$f"
		done
		[ -f "$selftest_src" ] && echo "$selftest_src"
		find "$modsrc" "$BUILD/modules/$flavor" "$BUILD/tests" "$BUILD/bin" \
			"$top/tools/guest" "$top/tests" -type f 2>/dev/null | grep -v '\.c$\|\.h$' || true
	} | while read -r f; do
		if [ -f "$f" ]; then stat -c '%n %s %Y' "$f"; else echo "$f"; fi
	done | sort
}

want=$(inputs | sha1sum | cut -d' ' -f1)
if [ -f "$image" ] && [ "$(cat "$manifest" 2>/dev/null)" = "$want" ]; then
	exit 0
fi

stage=$(mktemp -d "$BUILD/initramfs-$flavor.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,spm/bin,spm/lib,spm/tests,add}

# busybox and its applets (real tools installed below replace same-named links)
cp /usr/bin/busybox "$stage/bin/busybox"
/usr/bin/busybox --list-full | while read -r a; do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$stage/$(dirname "$a")"
	ln -sf /bin/busybox "$stage/$a"
done

# Copy a host file to the same path in the image (following symlinks).
copy_same() {
	local f=$1
	[ -e "$stage$f" ] && return 0
	mkdir -p "$stage$(dirname "$f")"
	cp -L "$f" "$stage$f"
}

# The real tools and their shared libraries (ldd's paths) and loader.
for p in $(tool_paths); do
	name=$(basename "$p")
	rm -f "$stage"/{bin,sbin,usr/bin,usr/sbin}/"$name"
	cp "$p" "$stage/usr/bin/$name"
	ldd "$p" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' |
		while read -r lib; do copy_same "$lib"; done
done
for l in $KMOD_LINKS; do
	rm -f "$stage"/{bin,sbin,usr/bin,usr/sbin}/"$l"
	ln -s /usr/bin/kmod "$stage/usr/sbin/$l"
done
ln -sf /usr/bin/dash "$stage/bin/sh"
ln -sf /usr/bin/bash "$stage/bin/bash"

# Kernel modules, plus the project's out-of-tree modules in extra/.
mkdir -p "$stage/lib/modules"
cp -a "$modsrc" "$stage/lib/modules/$release"
rm -f "$stage/lib/modules/$release"/{build,source}
if compgen -G "$BUILD/modules/$flavor/*/*.ko" >/dev/null; then
	mkdir -p "$stage/lib/modules/$release/extra"
	cp "$BUILD/modules/$flavor"/*/*.ko "$stage/lib/modules/$release/extra/"
fi
depmod -b "$stage" "$release"

# The project's test programs and tools: for each tests/<suite>/<name>.c
# its binary, which must be newer than the source and the headers (make
# userprogs builds them), and each <name>.sh.  Nothing else from
# build/tests: a binary whose source was removed or renamed must not run.
for d in "$top"/tests/*/; do
	suite=$(basename "$d")
	[ "$suite" = lib ] && continue
	for f in "$d"*.c "$d"*.sh; do
		[ -f "$f" ] || continue
		mkdir -p "$stage/spm/tests/$suite"
		case "$f" in
		*.sh) install -m 0755 "$f" "$stage/spm/tests/$suite/" ;;
		*.c)
			bin=$BUILD/tests/$suite/$(basename "$f" .c)
			stale=$(find "$f" "$top"/tests/lib/*.h -newer "$bin" 2>/dev/null | head -1)
			if [ ! -x "$bin" ] || [ -n "$stale" ]; then
				echo "mkinitramfs: $bin is missing or older than ${stale:-its source}: run make userprogs" >&2
				exit 1
			fi
			install -m 0755 "$bin" "$stage/spm/tests/$suite/" ;;
		esac
	done
done
# --- the series' kselftest: /spm/selftests/spm_nodes, run by tests/spm-core
# and tests/spm-dax (test_95_selftest.sh); its source and binary are above.
if [ -f "$selftest_src" ]; then
	if [ ! -x "$selftest" ] || [ "$selftest_src" -nt "$selftest" ]; then
		echo "mkinitramfs: $selftest is missing or older than $selftest_src: run make userprogs" >&2
		exit 1
	fi
	install -D -m 0755 "$selftest" "$stage/spm/selftests/spm_nodes"
fi
# --- end of the series' kselftest
if [ -d "$BUILD/bin" ]; then
	cp -a "$BUILD/bin/." "$stage/spm/bin/"
fi
install -m 0755 "$top"/tools/guest/* "$stage/spm/bin/"
install -m 0755 "$top/tests/lib/spm-run-suite" "$stage/spm/bin/"
install -m 0644 "$top/tests/lib/tap.sh" "$top/tests/lib/cram.sh" "$top/tests/lib/no_spm_nodes.sh" \
	"$top/tests/lib/kunit.sh" "$top/tests/lib/kernel_image.sh" "$stage/spm/lib/"

# Minimal /etc
echo "root:x:0:0:root:/root:/bin/sh" > "$stage/etc/passwd"
echo "root:x:0:" > "$stage/etc/group"
: > "$stage/etc/fstab"
install -m 0755 "$top/scripts/initramfs/init" "$stage/init"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 -n > "$image.tmp.$$"
mv "$image.tmp.$$" "$image"
echo "$want" > "$manifest"
echo "mkinitramfs: $image ($(du -h "$image" | cut -f1), kernel $release)"
