#!/bin/bash
# Prepare the kernel work tree (pristine pinned source + the series) or
# export its commits back to patches/.
#
#   tree.sh prepare   build/linux = base commit + git am patches/*.patch
#   tree.sh export    patches/ = format-patch base..HEAD with a cover letter
#
# Both refuse to clobber work that is not in patches/ (FORCE=1 overrides
# prepare's check of unexported commits, never of uncommitted edits).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
TREE=$BUILD/linux
BASE_TREE=$BUILD/linux-baseline
PATCHES=$top/patches
KSRC_VERSION=${KSRC_VERSION:?KSRC_VERSION must be set (see Makefile)}
TARBALL=/usr/src/linux-source-6.12.tar.xz
BASE_TAG=spm-base
BRANCH=spm

export GIT_AUTHOR_NAME="SPM project" GIT_AUTHOR_EMAIL="spm@localhost"
export GIT_COMMITTER_NAME="SPM project" GIT_COMMITTER_EMAIL="spm@localhost"

die() { echo "tree: $*" >&2; exit 1; }
g() { git -C "$TREE" "$@"; }

series() { ls "$PATCHES"/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-cover-letter.patch$' || true; }

ids_of_patches() {
	local f
	for f in $(series); do git patch-id --stable < "$f" | awk '{print $1}'; done
}

ids_of_tree() {
	local c
	for c in $(g rev-list --reverse "$BASE_TAG"..HEAD); do
		g show "$c" | git patch-id --stable | awk '{print $1}'
	done
}

check_clean() {
	[ -z "$(g status --porcelain --untracked-files=no)" ] ||
		die "$TREE has uncommitted changes; commit them (then 'make export') or discard them first"
}

create_base() {
	[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
	echo "tree: extracting linux-source-6.12 $KSRC_VERSION into $TREE"
	rm -rf "$TREE.tmp"
	mkdir -p "$TREE.tmp"
	tar -xf "$TARBALL" -C "$TREE.tmp" --strip-components=1
	git -C "$TREE.tmp" init -q -b "$BRANCH"
	git -C "$TREE.tmp" config core.autocrlf false
	git -C "$TREE.tmp" config gc.auto 0
	git -C "$TREE.tmp" add -A -f .
	GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z" \
		git -C "$TREE.tmp" commit -q -m "Linux $KSRC_VERSION (Debian linux-source-6.12)"
	git -C "$TREE.tmp" tag -a -m "$KSRC_VERSION" "$BASE_TAG"
	mv "$TREE.tmp" "$TREE"
}

apply_series() {
	local n
	n=$(series | wc -l)
	g reset -q --hard "$BASE_TAG"
	if [ "$n" -gt 0 ]; then
		echo "tree: applying $n patches"
		# shellcheck disable=SC2046
		g am -q --committer-date-is-author-date $(series) ||
			{ g am --abort || true; die "the series does not apply"; }
	fi
}

prepare() {
	if [ ! -d "$TREE/.git" ]; then
		create_base
		apply_series
	else
		local have
		have=$(g tag -l --format='%(contents:subject)' "$BASE_TAG")
		[ "$have" = "$KSRC_VERSION" ] ||
			die "$TREE is based on $have, not $KSRC_VERSION; remove $BUILD/linux* to rebuild it"
		check_clean
		if [ "$(ids_of_tree)" != "$(ids_of_patches)" ]; then
			local extra
			extra=$(comm -23 <(ids_of_tree | sort) <(ids_of_patches | sort) | wc -l)
			if [ "$extra" -gt 0 ] && [ "${FORCE:-0}" != 1 ]; then
				die "$TREE has $extra commit(s) not in patches/: run 'make export' first (or FORCE=1 to drop them)"
			fi
			g checkout -q "$BRANCH"
			apply_series
		fi
	fi
	if [ ! -d "$BASE_TREE" ]; then
		g worktree prune
		g worktree add -q --detach "$BASE_TREE" "$BASE_TAG"
	fi
	echo "tree: $TREE at $(g rev-parse --short HEAD) ($(g rev-list --count "$BASE_TAG"..HEAD) patches on $KSRC_VERSION)"
}

export_series() {
	[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree'"
	check_clean
	local cover=$top/kernel/cover-letter.txt
	[ -f "$cover" ] || die "$cover missing"
	g config "branch.$BRANCH.description" "$(cat "$cover")"
	mkdir -p "$PATCHES"
	rm -f "$PATCHES"/*.patch
	local n
	n=$(g rev-list --count "$BASE_TAG"..HEAD)
	if [ "$n" -eq 0 ]; then
		echo "tree: no commits on top of $BASE_TAG; patches/ is empty"
		return
	fi
	g format-patch -q -o "$PATCHES" --cover-letter --cover-from-description=subject \
		--zero-commit --no-signature --subject-prefix="RFC PATCH" "$BASE_TAG"..HEAD
	echo "tree: exported $n patches to $PATCHES"
}

case "${1:-}" in
prepare) prepare ;;
export) export_series ;;
*) die "usage: tree.sh prepare|export" ;;
esac
