#!/bin/sh
# mmdebstrap essential hook: runs after the Essential packages are installed,
# before the rest. Stubs update-initramfs so that ~900 kernel modules and the
# trigger do not each rebuild the initrd under qemu-user (34 of 45 minutes);
# customize-hook.sh builds it once at the end.
set -eu
root=$1
chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# picloud image build: the initrd is built once by customize-hook.sh\nexit 0\n' >"$root/usr/sbin/update-initramfs"
chmod 0755 "$root/usr/sbin/update-initramfs"

# No Debian default PostgreSQL cluster: the agent initdb's its own, and an
# initdb under qemu-user costs a minute. build.sh passes force-confold, so
# postgresql-common keeps this file (its own lands as .dpkg-dist and
# customize-hook.sh merges the two).
mkdir -p "$root/etc/postgresql-common"
echo 'create_main_cluster = false' >"$root/etc/postgresql-common/createcluster.conf"
