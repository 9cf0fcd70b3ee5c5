#!/bin/bash
# Install every build and run dependency from Debian's packages.
# Idempotent: prints nothing and does nothing when all is in place.
#
#   deps.sh [PACKAGE...]   the project's packages plus these (make fuzz-deps:
#                          trinity)
set -euo pipefail

KSRC_VERSION=${KSRC_VERSION:?KSRC_VERSION must be set (see Makefile)}

PKGS="build-essential gcc make flex bison bc libelf-dev libssl-dev cpio
      xz-utils kmod rsync dwarves python3 git ccache perl
      qemu-system-x86 busybox-static numactl libnuma-dev ndctl daxctl
      stress-ng util-linux procps gnuplot-nox $*"

missing=()
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
ksrc_have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ "$ksrc_have" = "$KSRC_VERSION" ] || missing+=("linux-source-6.12=$KSRC_VERSION")

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root (apt-get install)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
if ! apt-cache madison linux-source-6.12 | awk '{print $3}' | grep -qxF "$KSRC_VERSION"; then
	echo "deps: linux-source-6.12 version $KSRC_VERSION is not available." >&2
	echo "deps: versions available:" >&2
	apt-cache madison linux-source-6.12 | awk '{print "  " $3}' >&2
	echo "deps: pick one with 'make KSRC_VERSION=<version> ...'" >&2
	exit 1
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
