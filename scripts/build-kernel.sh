#!/bin/bash
# Build one of the three kernels from the same configuration:
#   patched   build/linux (series applied)         -> build/out/patched
#   baseline  build/linux-baseline (pristine base) -> build/out/baseline
#   debug     build/linux + kernel/config/debug.config -> build/out/debug
#   patched-jl, baseline-jl  as patched and baseline, with static keys
#             (kernel/config/jump-label.config), for the cost benchmark
# Every kernel that runs tests (patched, baseline, debug) also gets the
# cheap detectors of kernel/config/tripwires.config; the benchmark's do not.
# Incremental: the configuration is regenerated only when a fragment
# changes; compiles go through ccache.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
flavor=${1:?usage: build-kernel.sh patched|baseline|debug}
frags=("$top/kernel/config/spm.config")
series=$top/kernel/config/series.config
trip=$top/kernel/config/tripwires.config
case "$flavor" in
patched) src=$BUILD/linux; frags+=("$series" "$trip") ;;
baseline) src=$BUILD/linux-baseline; frags+=("$trip") ;;
debug) src=$BUILD/linux; frags+=("$series" "$trip" "$top/kernel/config/debug.config") ;;
patched-jl) src=$BUILD/linux; frags+=("$series" "$top/kernel/config/jump-label.config") ;;
baseline-jl) src=$BUILD/linux-baseline; frags+=("$top/kernel/config/jump-label.config") ;;
*) echo "build-kernel: unknown flavor '$flavor'" >&2; exit 1 ;;
esac
out=$BUILD/out/$flavor
[ -f "$src/Makefile" ] || { echo "build-kernel: no source at $src: run 'make tree'" >&2; exit 1; }
mkdir -p "$out"

export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export KBUILD_BUILD_TIMESTAMP="2025-01-01" KBUILD_BUILD_USER=spm KBUILD_BUILD_HOST=spm
kmake() { make -s -C "$src" O="$out" ARCH=x86_64 LOCALVERSION= CC="ccache gcc" HOSTCC="ccache gcc" "$@"; }

# Check that every option the fragments ask for survived olddefconfig.
# A later fragment overrides an earlier one, as in merge_config.sh.
check_config() {
	local f line opt bad=0
	local -A want from
	for f in "${frags[@]}"; do
		while IFS= read -r line; do
			if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
				want[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
			elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
				want[${BASH_REMATCH[1]}]=n
			else
				continue
			fi
			from[${BASH_REMATCH[1]}]=$(basename "$f")
		done < "$f"
	done
	for opt in "${!want[@]}"; do
		if [ "${want[$opt]}" = n ]; then
			if grep -qE "^$opt=[ym]" "$out/.config"; then
				echo "build-kernel: $opt must be unset (${from[$opt]})" >&2
				bad=1
			fi
		elif ! grep -qxF "$opt=${want[$opt]}" "$out/.config"; then
			echo "build-kernel: $opt=${want[$opt]} requested by ${from[$opt]} but .config has: $(grep -E "^(# )?$opt[= ]" "$out/.config" || echo unset)" >&2
			bad=1
		fi
	done
	return $bad
}

stamp=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.spm-config-stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "build-kernel: configuring $flavor"
	kmake tinyconfig >/dev/null
	(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
	kmake olddefconfig >/dev/null
	if ! check_config; then
		rm -f "$out/.spm-config-stamp"
		echo "build-kernel: configuration check failed" >&2
		exit 1
	fi
	echo "$stamp" > "$out/.spm-config-stamp"
fi

echo "build-kernel: building $flavor ($(nproc) jobs)"
# Two builds sharing the ccache at the same moment have been seen to lose a
# dependency file (fixdep: error opening file ...o.d); a real error fails twice.
if ! kmake -j"$(nproc)" bzImage modules; then
	echo "build-kernel: build failed; retrying once" >&2
	kmake -j"$(nproc)" bzImage modules
fi
rm -rf "$out/modroot"
kmake INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
echo "build-kernel: $out/arch/x86/boot/bzImage ($(kmake -s kernelrelease))"
