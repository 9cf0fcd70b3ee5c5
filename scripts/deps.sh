#!/bin/bash
# Install every build and run dependency from Debian's packages.
# Idempotent: prints nothing and does nothing when all is in place.
#
#   deps.sh [PACKAGE...]   the project's packages plus these (make fuzz-deps:
#                          trinity; make static-check: sparse, coccinelle, ocaml-nox (semantic patches with OCaml scripts);
#                          make test-upstream: libcap-dev, liburing-dev)
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
# Debian's own configuration of that version, for scripts/config-compare.sh.
# Optional: the archive keeps only the newest linux-config-6.12.
kcfg=
[ "$(dpkg-query -W -f='${Version}' linux-config-6.12 2>/dev/null || true)" = \
	"$KSRC_VERSION" ] || kcfg="linux-config-6.12=$KSRC_VERSION"

[ ${#missing[@]} -eq 0 ] && [ -z "$kcfg" ] && exit 0
if [ "$(id -u)" != 0 ] && [ ${#missing[@]} -eq 0 ]; then
	echo "deps: $kcfg not installed (optional; needs root)" >&2
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root (apt-get install)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]} $kcfg"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
if ! apt-cache madison linux-source-6.12 | awk '{print $3}' | grep -qxF "$KSRC_VERSION"; then
	echo "deps: linux-source-6.12 version $KSRC_VERSION is not available." >&2
	echo "deps: versions available:" >&2
	apt-cache madison linux-source-6.12 | awk '{print "  " $3}' >&2
	echo "deps: pick one with 'make KSRC_VERSION=<version> ...'" >&2
	exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -n "$kcfg" ]; then
	if apt-cache madison linux-config-6.12 | awk '{print $3}' | grep -qxF "$KSRC_VERSION"; then
		apt-get install -y -q --no-install-recommends "$kcfg" >/dev/null
	else
		echo "deps: $kcfg is not available; scripts/config-compare.sh then needs Debian's config as its argument" >&2
	fi
fi
echo "deps: done"
