#!/bin/bash
# Builds the PiCloud SD-card image for Raspberry Pi 3/4/400/CM4 (arm64).
#
#   image/build.sh [--agent PATH] [--version V] [--out DIR] [--no-compress]
#
# Stage 1, the base root filesystem (Debian bookworm by mmdebstrap, kernel,
# initrd, Pi firmware, PostgreSQL, ...), is cached as a zstd tarball keyed by
# a hash of its inputs in $PICLOUD_IMAGE_CACHE (default
# /var/cache/picloud-image), so a second build skips mmdebstrap. Stage 2 adds
# the overlay (units, first boot, settings), the picloud binaries, and
# assembles the partitioned image without loop mounts.
#
# Outputs in --out (default image/out): picloud-V-arm64.img (raw, kept for the
# boot test), picloud-V-arm64.img.xz and .sha256, os_list_picloud.json
# (Raspberry Pi Imager), and the kernel/initrd copied out of the image.
# Needs root, mmdebstrap, qemu-user-static with binfmt_misc (image/ci.sh
# installs them), and Go when --agent is not given.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib/common.sh"

agent=""
version="${PICLOUD_VERSION:-}"
out="$here/out"
compress=1
while [ $# -gt 0 ]; do
	case "$1" in
	--agent) agent=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--no-compress) compress=0; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, file ownership in the image)"
if [ -z "$version" ]; then
	version=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)
	version=${version#v}
fi
cache=${PICLOUD_IMAGE_CACHE:-/var/cache/picloud-image}
xz_level=${PICLOUD_IMAGE_XZ:--6}
mkdir -p "$cache" "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s)

suite=bookworm
components="main contrib non-free-firmware"
# Bump to force a new base rootfs (e.g. to pick up Debian point releases).
cache_epoch=1
# Part of the cache key. Under qemu-user every dpkg fsync and every file
# unpacked costs, so: no fsync (the result is tarred anyway), no man pages,
# translations or docs beyond copyright files, no Translation indexes, and
# keep our createcluster.conf (essential-hook.sh) when postgresql-common
# arrives, so no default cluster is initdb'd under emulation.
mmdebstrap_opts=(--mode=root --arch=arm64 --variant=minbase
	--aptopt='Acquire::Languages "none"'
	--dpkgopt=force-unsafe-io --dpkgopt=force-confold
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright')

work=$(mktemp -d "${PICLOUD_IMAGE_WORK:-/var/tmp}/picloud-image.XXXXXX")
gopid=""
cleanup() {
	[ -z "$gopid" ] || kill "$gopid" 2>/dev/null || true
	# never rm -rf through a mount mmdebstrap may have left behind
	if grep -q " $work/" /proc/mounts; then
		log "mounts left under $work; not deleting it"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
root="$work/root"

# The Go binaries build in the background while mmdebstrap (mostly one core
# of qemu-user and downloads) runs: on a cold cache this overlaps the two
# longest steps instead of adding them.
if [ -z "$agent" ]; then
	[ -d "$repo/cmd/picloud" ] && ls "$repo"/cmd/picloud/*.go >/dev/null 2>&1 ||
		die "no --agent given and no cmd/picloud to build"
fi
(
	cd "$repo"
	export CGO_ENABLED=0 GOOS=linux GOARCH=arm64
	s=$(date +%s)
	if [ -z "$agent" ]; then
		go build -trimpath -ldflags "-s -w" -o "$work/picloud" ./cmd/picloud
	fi
	go build -trimpath -ldflags "-s -w" -o "$work/picloud-firstboot" ./image/cmd/picloud-firstboot
	echo "go build for linux/arm64 took $(($(date +%s) - s)) s"
) >"$work/go-build.log" 2>&1 &
gopid=$!
log "building picloud and picloud-firstboot for linux/arm64 in the background"

# --- stage 1: base rootfs, cached by a hash of its inputs -------------------
key=$( {
	echo "epoch=$cache_epoch suite=$suite components=$components arch=arm64"
	cat "$here/packages.txt" "$here/rootfs-base/essential-hook.sh" \
		"$here/rootfs-base/customize-hook.sh" "$here/rootfs-base/initramfs-modules"
	printf '%s\n' "${mmdebstrap_opts[@]}"
} | sha256sum | cut -c1-16)
base="$cache/rootfs-$key.tar.zst"
if [ -s "$base" ] && [ "${PICLOUD_IMAGE_REBUILD:-0}" != 1 ]; then
	log "rootfs cache HIT $base"
	mkdir "$root"
	zstd -q -dc "$base" | tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf -
	log "rootfs restored ($(du -sm "$root" | cut -f1) MB) in $(($(date +%s) - t0)) s"
else
	log "rootfs cache MISS $base: running mmdebstrap (10-30 minutes)"
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "no Debian mirror for $suite in /etc/apt/sources.list*; set PICLOUD_DEBIAN_MIRROR"
	sources=("deb $mirror $suite $components" "deb $mirror $suite-updates $components")
	sec=$(debian_security_mirror)
	[ -z "$sec" ] || sources+=("deb $sec $suite-security $components")
	ensure_binfmt
	# The system's python3 for mmtarfilter (one per essential package with
	# path-exclude): a pyenv/virtualenv shim first in PATH costs seconds
	# per call under load, which made "extracting archives" take 15 minutes.
	PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH mmdebstrap "${mmdebstrap_opts[@]}" \
		--include="$(package_list "$here/packages.txt")" \
		--essential-hook="$here/rootfs-base/essential-hook.sh \"\$1\"" \
		--customize-hook="$here/rootfs-base/customize-hook.sh \"\$1\"" \
		"$suite" "$root" "${sources[@]}"
	log "mmdebstrap done after $(($(date +%s) - t0)) s; packing the rootfs cache"
	tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -cf - . |
		zstd -q -T0 "${PICLOUD_IMAGE_ZSTD:--6}" -o "$base.part"
	mv "$base.part" "$base"
	# keep the newest two bases
	ls -1t "$cache"/rootfs-*.tar.zst | tail -n +3 | xargs -r rm -f
	log "rootfs cached ($(du -h "$base" | cut -f1)) after $(($(date +%s) - t0)) s"
fi

# --- stage 2: overlay, binaries, image --------------------------------------
t1=$(date +%s)
wait "$gopid" || { cat "$work/go-build.log" >&2; gopid=""; die "go build failed"; }
gopid=""
log "$(tail -n1 "$work/go-build.log"); waited $(($(date +%s) - t1)) s for it"
[ -n "$agent" ] || agent="$work/picloud"
file -b "$agent" 2>/dev/null | grep -q 'ARM aarch64' || die "$agent is not a linux/arm64 binary"

tar -C "$here/rootfs" --owner=0 --group=0 -cf - . | tar -C "$root" -xf -
install -m 0755 "$agent" "$root/usr/bin/picloud"
install -D -m 0755 "$work/picloud-firstboot" "$root/usr/lib/picloud/picloud-firstboot"
install -m 0644 "$repo/cmd/picloud/picloud.service" "$root/usr/lib/systemd/system/picloud.service"
install -m 0644 "$here/picloud.toml.example" "$root/boot/firmware/picloud.toml"
printf 'PICLOUD_VERSION=%s\nPICLOUD_BUILD_DATE=%s\n' "$version" "$(date -u +%Y-%m-%d)" >"$root/etc/picloud-release"
echo picloud >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tpicloud\n' >"$root/etc/hosts"
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
systemd-sysusers --root="$root"
systemctl --root="$root" enable systemd-networkd.service systemd-resolved.service \
	systemd-timesyncd.service avahi-daemon.service ssh.service \
	picloud-firstboot.service picloud.service
systemctl --root="$root" mask swap.target >/dev/null
log "overlay applied"

# Kernel and initrd for qemu -M virt, copied out of the image's own /boot.
kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"

name="picloud-$version-arm64"
img="$out/$name.img"
assemble_image "$root" "$img" "$work"
log "image assembled: $img ($(du -h --apparent-size "$img" | cut -f1))"

if [ "$compress" = 1 ]; then
	rm -f "$img.xz"
	log "compressing with xz $xz_level"
	xz -T0 "$xz_level" -k -c "$img" >"$img.xz.part" && mv "$img.xz.part" "$img.xz"
	(cd "$out" && sha256sum "$name.img.xz" >"$name.img.xz.sha256")
	write_imager_manifest "$img" "$img.xz" "$version" >"$out/os_list_picloud.json"
	log "wrote $img.xz ($(du -h "$img.xz" | cut -f1)), its .sha256 and os_list_picloud.json"
fi
log "build done in $(($(date +%s) - t0)) s"
