#!/bin/sh
# mmdebstrap customize hook: runs inside mmdebstrap once every package is
# installed. Builds the initrd once, lets raspi-firmware fill /boot/firmware,
# and removes what must be unique per node. Everything here is part of the
# cached base rootfs; per-build files come from the overlay in build.sh.
set -eu
root=$1
here=$(cd "$(dirname "$0")" && pwd)

# fstab first: initramfs-tools' fsck hook reads the root's type from it
# (without it the initrd has no fsck).
cat >"$root/etc/fstab" <<'FSTAB'
# <device>        <mount>         <type> <options>                                   <dump> <pass>
LABEL=RASPIROOT   /               ext4   rw,noatime,errors=remount-ro,commit=60      0      1
LABEL=RASPIFIRM   /boot/firmware  vfat   rw,noatime,fmask=0077,dmask=0077,flush      0      2
FSTAB

# raspi-firmware settings (its hook runs in this chroot, where it cannot see
# the board): root by label instead of its /dev/mmcblk0p2 fallback, so it
# boots from SD, USB and under qemu; the consoles of Pi 3/4 in arm64 (the
# HDMI console and the mini UART on the GPIO header) instead of probing the
# build machine's /dev; and no cma= on the command line, which Debian's hook
# omits on a Pi 4 only when it runs on one (this image serves Pi 3 and 4).
set_default() {
	if grep -q "^#\?$1=" "$root/etc/default/raspi-firmware"; then
		sed -i "s|^#\?$1=.*|$1=$2|" "$root/etc/default/raspi-firmware"
	else
		echo "$1=$2" >>"$root/etc/default/raspi-firmware"
	fi
}
set_default ROOTPART LABEL=RASPIROOT
set_default CONSOLES '"tty0 ttyS1,115200"'
set_default CMA 0

sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
cp "$here/initramfs-modules" "$root/etc/initramfs-tools/modules"
# The fsck hook probes the root device for its type, which fails in a chroot
# (no fsck in the initrd, and no fsck.repair at boot); name it instead.
# gzip: the rootfs has no zstd, and the Pi firmware does not care.
printf 'FSTYPE=ext4\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/picloud"

# Put the real update-initramfs back (essential-hook.sh stubbed it).
if chroot "$root" dpkg-divert --list /usr/sbin/update-initramfs | grep -q .; then
	rm -f "$root/usr/sbin/update-initramfs"
	chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
fi

mounted_proc=
if ! mountpoint -q "$root/proc"; then
	mount -t proc proc "$root/proc"
	mounted_proc=1
fi
for moddir in "$root"/lib/modules/*; do
	v=$(basename "$moddir")
	chroot "$root" update-initramfs -c -k "$v"
	# The kernel hook copies kernel, initrd and device trees to
	# /boot/firmware and writes config.txt and cmdline.txt.
	chroot "$root" env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$v" "/boot/vmlinuz-$v"
done
[ -z "$mounted_proc" ] || umount "$root/proc"

# PostgreSQL: the agent initdb's and runs its own instance. Debian's
# createcluster.conf, with the default cluster off (also for later major
# versions installed by apt).
cc=$root/etc/postgresql-common/createcluster.conf
if [ -f "$cc.dpkg-dist" ]; then
	mv "$cc.dpkg-dist" "$cc"
fi
if grep -q '^#\?create_main_cluster' "$cc"; then
	sed -i 's/^#\?create_main_cluster.*/create_main_cluster = false/' "$cc"
else
	echo 'create_main_cluster = false' >>"$cc"
fi
if [ -d "$root/etc/postgresql" ]; then
	for c in "$root"/etc/postgresql/*/*; do
		[ -d "$c" ] || continue
		ver=$(basename "$(dirname "$c")")
		chroot "$root" pg_dropcluster "$ver" "$(basename "$c")"
	done
fi
chroot "$root" systemctl disable postgresql.service

# Per-node identity is made at first boot, never baked in.
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# build.sh's dpkg options that only make sense for the build (no fsync,
# keep the conffile above) must not stay for apt upgrades on the Pi; the
# path-excludes (no man pages, docs) stay.
sed -i '/^force-unsafe-io$/d; /^force-confold$/d' "$root"/etc/dpkg/dpkg.cfg.d/99mmdebstrap 2>/dev/null || true

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
