#!/bin/bash
# Build the project's out-of-tree kernel modules against one kernel flavor.
#
#   build-modules.sh patched|baseline|debug
#
# Every drivers/<name>/ holding a Kbuild (or Makefile) is one module folder.
# Its sources are mirrored to build/modules/<flavor>/<name>/ (so the repo
# stays clean and flavors do not share objects) and built there with
#   make -C build/out/<flavor> M=build/modules/<flavor>/<name> modules
# mkinitramfs.sh puts the resulting *.ko in /lib/modules/<release>/extra/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
flavor=${1:?usage: build-modules.sh patched|baseline|debug}
out=$BUILD/out/$flavor
dst=$BUILD/modules/$flavor

die() { echo "build-modules: $*" >&2; exit 1; }

dirs=()
for d in "$top"/drivers/*/; do
	[ -f "$d/Kbuild" ] || [ -f "$d/Makefile" ] || continue
	dirs+=("$(basename "$d")")
done

mkdir -p "$dst"
# Forget modules whose source folder is gone.
for d in "$dst"/*/; do
	[ -d "$d" ] || continue
	name=$(basename "$d")
	[ -d "$top/drivers/$name" ] || rm -rf "$d"
done
[ ${#dirs[@]} -gt 0 ] || exit 0

[ -f "$out/Module.symvers" ] || die "no $flavor kernel in $out: run 'make kernel-$flavor'"

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
for name in "${dirs[@]}"; do
	mkdir -p "$dst/$name"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='Module.symvers' --exclude='modules.order' \
		--exclude='.tmp*' "$top/drivers/$name/" "$dst/$name/"
	make -s -C "$out" M="$dst/$name" ARCH=x86_64 LOCALVERSION= CC="ccache gcc" \
		-j"$(nproc)" W=1 modules
done
n=$(find "$dst" -name '*.ko' | wc -l)
echo "build-modules: $n module(s) for $flavor in $dst"
