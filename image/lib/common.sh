# Shared helpers for the image scripts; sourced, not executed.

log() { printf '%s [image] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# debian_mirror prints the Debian archive URI that this machine's apt already
# uses for bookworm (PICLOUD_DEBIAN_MIRROR overrides). No host is hard-coded.
debian_mirror() {
	if [ -n "${PICLOUD_DEBIAN_MIRROR:-}" ]; then echo "$PICLOUD_DEBIAN_MIRROR"; return; fi
	apt_uri_for_suite bookworm
}

# debian_security_mirror prints the URI used for bookworm-security, or nothing.
debian_security_mirror() {
	if [ -n "${PICLOUD_DEBIAN_SECURITY_MIRROR:-}" ]; then echo "$PICLOUD_DEBIAN_SECURITY_MIRROR"; return; fi
	apt_uri_for_suite bookworm-security
}

# apt_uri_for_suite SUITE reads /etc/apt/sources.list{,.d/*.list,.d/*.sources}
# (both one-line and deb822 formats) and prints the first URI serving SUITE.
apt_uri_for_suite() {
	suite=$1
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)==s) print $i }' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '
				function flush() { if (uri != "" && types ~ /(^| )deb( |$)/) { n=split(suites, a, " "); for (j=1;j<=n;j++) if (a[j]==s) print uri } uri=""; suites=""; types="" }
				/^[ \t]*$/ { flush(); next }
				/^Types:/ { sub(/^Types:[ \t]*/, ""); types=$0 }
				/^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, " "); uri=u[1] }
				/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites=$0 }
				END { flush() }' "$f"
		done
	} | head -n 1
}

# package_list prints packages.txt as a comma-separated list.
package_list() {
	grep -v '^[[:space:]]*#' "$1" | awk 'NF { printf "%s%s", sep, $1; sep="," }'
}

# ensure_binfmt makes arm64 binaries runnable through qemu-user (mmdebstrap
# runs the packages' maintainer scripts that way).
ensure_binfmt() {
	if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	fi
	if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		update-binfmts --enable qemu-aarch64
	fi
	grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "qemu-aarch64 binfmt is disabled"
}

# assemble_image ROOT IMG WORK lays out an MBR disk like Debian's Raspberry Pi
# images: a FAT partition RASPIFIRM (/boot/firmware) and an ext4 RASPIROOT,
# built from directories with mkfs -d and mtools, so no loop device is needed.
# The root is just big enough; first boot grows it to fill the card.
assemble_image() {
	local root=$1 img=$2 work=$3
	local boot_mb=256 offset_mb=4
	local used_mb root_mb
	mkfs.vfat -n RASPIFIRM -C "$work/boot.img" $((boot_mb * 1024)) >/dev/null
	(cd "$root/boot/firmware" && mcopy -s -p -m -i "$work/boot.img" ./* ::/)
	find "$root/boot/firmware" -mindepth 1 -delete
	used_mb=$(du -sm "$root" | cut -f1)
	root_mb=$(((used_mb * 13 / 10 + 300 + 63) / 64 * 64))
	rm -f "$work/root.img"
	mkfs.ext4 -q -L RASPIROOT -m 2 -E root_owner=0:0 -d "$root" "$work/root.img" "${root_mb}M"
	rm -f "$img"
	truncate -s $((offset_mb + boot_mb + root_mb))M "$img"
	sfdisk --quiet "$img" <<SFDISK
label: dos
unit: sectors
start=$((offset_mb * 2048)), size=$((boot_mb * 2048)), type=c, bootable
start=$(((offset_mb + boot_mb) * 2048)), size=$((root_mb * 2048)), type=83
SFDISK
	dd if="$work/boot.img" of="$img" bs=1M seek=$offset_mb conv=notrunc,sparse status=none
	dd if="$work/root.img" of="$img" bs=1M seek=$((offset_mb + boot_mb)) conv=notrunc,sparse status=none
	rm -f "$work/boot.img" "$work/root.img"
}

# boot_offset IMG prints the byte offset of partition 1 (for mtools' @@).
boot_offset() {
	sfdisk --json "$1" | jq -r '.partitiontable.partitions[0].start * 512'
}

# write_imager_manifest IMG IMG_XZ VERSION prints a Raspberry Pi Imager
# os_list entry. init_format "cloudinit" makes Imager's customisation
# (hostname, user, SSH key, Wi-Fi) write user-data and network-config to the
# boot partition, which picloud-firstboot applies. PICLOUD_IMAGE_URL_BASE is
# where the .img.xz will be published.
write_imager_manifest() {
	local img=$1 xzf=$2 ver=$3
	local url="${PICLOUD_IMAGE_URL_BASE:-}$(basename "$xzf")"
	jq -n --arg name "PiCloud $ver (64-bit)" --arg url "$url" --arg date "$(date -u +%Y-%m-%d)" \
		--argjson esize "$(stat -c %s "$img")" --arg esha "$(sha256sum "$img" | cut -d' ' -f1)" \
		--argjson dsize "$(stat -c %s "$xzf")" --arg dsha "$(sha256sum "$xzf" | cut -d' ' -f1)" \
		'{os_list: [{
			name: $name,
			description: "PiCloud serverless cluster node: Debian bookworm arm64, PostgreSQL, the picloud agent. Raspberry Pi 3, 4, 400 and CM4.",
			url: $url,
			release_date: $date,
			extract_size: $esize, extract_sha256: $esha,
			image_download_size: $dsize, image_download_sha256: $dsha,
			init_format: "cloudinit",
			devices: ["pi4-64bit", "pi3-64bit"]
		}]}'
}
