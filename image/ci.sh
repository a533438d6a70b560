#!/bin/bash
# One entry point for CI: installs the tools, builds the image (the base
# rootfs comes from the cache when its inputs did not change), and boots it
# under qemu with image/boottest.sh. Exits non-zero on any failure.
#
#   image/ci.sh                 build + boot test (no xz: CI does not publish)
#   PICLOUD_IMAGE_CI_COMPRESS=1 image/ci.sh   also write .img.xz + manifest
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib/common.sh"
t0=$(date +%s)

need=(mmdebstrap qemu-user-static binfmt-support qemu-system-arm dosfstools
	e2fsprogs fdisk mtools xz-utils zstd jq curl openssh-client file arch-test)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
ensure_binfmt
arch-test arm64 >/dev/null || die "arm64 binaries do not run through binfmt_misc here"

out="${PICLOUD_IMAGE_OUT:-$repo/image/out}"
args=(--out "$out" --version "${PICLOUD_VERSION:-ci}")
[ "${PICLOUD_IMAGE_CI_COMPRESS:-0}" = 1 ] || args+=(--no-compress)
"$here/build.sh" "${args[@]}"
t1=$(date +%s)
# A bound on the whole boot test (each step has its own, shorter one).
timeout -k 30 "${PICLOUD_BOOTTEST_TOTAL:-3600}" "$here/boottest.sh" "$out/picloud-${PICLOUD_VERSION:-ci}-arm64.img"
t2=$(date +%s)
log "image CI: build $((t1 - t0)) s, boot test $((t2 - t1)) s, total $((t2 - t0)) s"
