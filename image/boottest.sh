#!/bin/bash
# Boots a built PiCloud image under qemu-system-aarch64 -M virt and checks,
# each with a bounded timeout, what a person with a Pi would rely on:
#   first boot ran (root grown, hostname, users, Wi-Fi config, secrets moved
#   to /var/lib/picloud 0600 and scrubbed from the FAT partition), PostgreSQL
#   runs under the agent, the agent reported READY to systemd, no failed
#   units, /healthz answers through a port forwarded on 127.0.0.1, a script
#   deployed over the admin API answers, and a reboot keeps the data.
#
#   image/boottest.sh [IMAGE]      (default: newest image/out/picloud-*-arm64.img)
#
# The kernel, initrd and kernel command line are taken from the image's own
# boot partition. The image is copied (sparse), never modified. Exits non-zero
# on the first failed check. Settings go onto the copy's FAT partition with
# mtools, as a person would edit them on a laptop.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

img=${1:-$(ls -1t "$here"/out/picloud-*-arm64.img 2>/dev/null | head -n1)}
[ -f "$img" ] || die "no image (build one with image/build.sh)"
boot_timeout=${PICLOUD_BOOTTEST_TIMEOUT:-900}
for t in qemu-system-aarch64 mcopy mtype jq curl ssh ssh-keygen sfdisk; do
	command -v "$t" >/dev/null || die "missing $t"
done

work=$(mktemp -d "${PICLOUD_IMAGE_WORK:-/var/tmp}/picloud-boottest.XXXXXX")
qpid=""
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill "$qpid" 2>/dev/null || true; fi
	if [ "${PICLOUD_BOOTTEST_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
	log "FAIL: $*"
	if [ -f "$work/console.log" ]; then
		log "last console lines:"
		tail -n 60 "$work/console.log" | sed 's/^/    /' >&2
	fi
	exit 1
}

# --- the card, as a person would prepare it --------------------------------
log "copying $img"
cp --sparse=always "$img" "$work/disk.img"
orig_bytes=$(stat -c %s "$work/disk.img")
truncate -s +1G "$work/disk.img" # a bigger "card": first boot must grow the root
off=$(boot_offset "$work/disk.img")
fat="$work/disk.img@@$off"
# The same kernel and initrd the Pi's firmware loads: config.txt names them.
config=$(mtype -i "$fat" ::/config.txt | tr -d '\r')
kernel=$(echo "$config" | sed -n 's/^kernel=//p' | tail -n1)
initrd=$(echo "$config" | sed -n 's/^initramfs \([^ ]*\).*/\1/p' | tail -n1)
[ -n "$kernel" ] && [ -n "$initrd" ] || fail "config.txt names no kernel/initramfs"
mcopy -n -i "$fat" "::/$kernel" "$work/vmlinuz"
mcopy -n -i "$fat" "::/$initrd" "$work/initrd.img"
log "kernel $kernel, initrd $initrd ($(du -h "$work/initrd.img" | cut -f1))"
cmdline=$(mtype -i "$fat" ::/cmdline.txt | tr -d '\r\n')
# The Pi's serial consoles do not exist on -M virt; keep everything else.
append="$(echo "$cmdline" | tr ' ' '\n' | grep -v '^console=' | tr '\n' ' ')console=ttyAMA0"
log "kernel command line from the image: $cmdline"
echo "$cmdline" | grep -q 'root=LABEL=RASPIROOT' || fail "cmdline.txt does not boot by label"

ssh-keygen -q -t ed25519 -N '' -C boottest-root -f "$work/root_key"
ssh-keygen -q -t ed25519 -N '' -C boottest-imager -f "$work/imager_key"
admin_pw="bt-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
secret="cs-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
wifi_psk="wifi-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
cat >"$work/picloud.toml" <<TOML
hostname = ""
cluster_name = "boottest"
cluster_secret = "$secret"
timezone = "Europe/London"

[admin]
user = "admin"
password = "$admin_pw"

[ssh]
authorized_keys = ["$(cat "$work/root_key.pub")"]
TOML
# What Raspberry Pi Imager writes with init_format "cloudinit".
cat >"$work/user-data" <<YAML
#cloud-config
hostname: pi-boottest
manage_etc_hosts: true
users:
- name: imager
  groups: users,adm,dialout,audio,netdev,video,plugdev,sudo
  shell: /bin/bash
  lock_passwd: true
  ssh_authorized_keys:
    - $(cat "$work/imager_key.pub")
  sudo: ALL=(ALL) NOPASSWD:ALL
timezone: Europe/London
runcmd:
- sed -i 's/^\s*REGDOMAIN=\S*/REGDOMAIN=GB/' /etc/default/crda || true
YAML
cat >"$work/network-config" <<YAML
version: 2
wifis:
  renderer: networkd
  wlan0:
    dhcp4: true
    optional: true
    access-points:
      "BootTestNet":
        password: "$wifi_psk"
YAML
echo "instance-id: boottest" >"$work/meta-data"
for f in picloud.toml user-data network-config meta-data; do
	mcopy -o -i "$fat" "$work/$f" "::/$f"
done

# --- boot ---------------------------------------------------------------
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
http_port=$(free_port)
https_port=$(free_port)
ssh_port=$(free_port)
start_qemu() {
	qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
		-nodefaults -no-user-config -display none -monitor none \
		-kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$append" \
		-drive "file=$work/disk.img,format=raw,if=virtio,cache=unsafe" \
		-device virtio-rng-pci \
		-netdev "user,id=n0,hostname=qemu,hostfwd=tcp:127.0.0.1:$http_port-:80,hostfwd=tcp:127.0.0.1:$https_port-:443,hostfwd=tcp:127.0.0.1:$ssh_port-:22" \
		-device virtio-net-pci,netdev=n0 \
		-serial "file:$work/console.log" &
	qpid=$!
}
base="http://127.0.0.1:$http_port"
vm() {
	ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile="$work/known_hosts" \
		-o ConnectTimeout=10 -i "$work/root_key" -p "$ssh_port" root@127.0.0.1 "$@"
}
# wait_healthz LIMIT: seconds until /healthz says ok, or fail.
wait_healthz() {
	local start=$1 limit=$2
	while :; do
		if [ "$(curl -fsS -m 5 "$base/healthz" 2>/dev/null)" = ok ]; then
			echo $(($(date +%s) - start))
			return
		fi
		kill -0 "$qpid" 2>/dev/null || fail "qemu exited"
		[ $(($(date +%s) - start)) -lt "$limit" ] || fail "/healthz not ok after $limit s"
		sleep 2
	done
}
wait_ssh() {
	local start=$(date +%s)
	until vm true 2>/dev/null; do
		[ $(($(date +%s) - start)) -lt 180 ] || fail "no SSH as root with the key from picloud.toml"
		sleep 2
	done
}
check() { # check DESCRIPTION COMMAND...: run a check inside the VM
	local what=$1
	shift
	if out=$(vm "$@" 2>&1); then
		log "ok: $what"
	else
		fail "$what: $out"
	fi
}

log "booting (http 127.0.0.1:$http_port, ssh 127.0.0.1:$ssh_port, timeout ${boot_timeout}s)"
t_power=$(date +%s)
start_qemu
t_healthz=$(wait_healthz "$t_power" "$boot_timeout")
log "power-on -> /healthz ok: ${t_healthz} s"
wait_ssh
log "ok: SSH as root with the key from picloud.toml"

# systemd's view: wait (bounded) for the boot to settle, then no failures.
state=$(vm "timeout 300 systemctl is-system-running --wait" || true)
[ "$state" = running ] || fail "system is '$state': $(vm 'systemctl --failed --no-legend --plain' 2>&1)"
log "ok: systemd reports running, no failed units"

check "first boot ran once and succeeded" 'test -f /var/lib/picloud/firstboot.done && systemctl show -p Result --value picloud-firstboot.service | grep -qx success'
check "picloud user is a static system user" 'id -u picloud | awk "{exit !(\$1 < 1000)}"'
check "agent READY: picloud.service active (Type=notify)" \
	'[ "$(systemctl show -p Type --value picloud)" = notify ] && systemctl is-active -q picloud && [ "$(systemctl show -p WatchdogUSec --value picloud)" != 0 ]'
check "agent runs as picloud, not root" '[ "$(ps -o user= -p "$(systemctl show -p MainPID --value picloud)")" = picloud ]'
check "PostgreSQL runs under the agent as picloud, data in /var/lib/picloud" \
	'pids=$(systemctl show -p ControlGroup --value picloud); cat /sys/fs/cgroup$pids/cgroup.procs | xargs -r ps -o user=,comm= -p | grep -q "^picloud *postgres$"'
check "PostgreSQL tuned for flash (WAL compression, spread checkpoints)" \
	'cd / && q() { runuser -u picloud -- psql -h /var/lib/picloud/postgres -d picloud -XAtc "show $1"; }; q wal_compression | grep -qxE "on|pglz|lz4|zstd" && [ "$(q checkpoint_completion_target)" = 0.9 ]'
check "Debian's default PostgreSQL cluster does not exist" '! ls /etc/postgresql/*/main 2>/dev/null && ! systemctl is-active -q postgresql'
check "secrets in /var/lib/picloud/picloud.env, 0600 picloud" \
	"[ \"\$(stat -c %a:%U /var/lib/picloud/picloud.env)\" = 600:picloud ] && grep -q '$secret' /var/lib/picloud/picloud.env"
check "picloud.toml scrubbed on the FAT partition" \
	"! grep -q -e '$admin_pw' -e '$secret' /boot/firmware/picloud.toml && grep -q 'Applied by PiCloud' /boot/firmware/picloud.toml"
check "cloud-init user-data and network-config consumed" '! ls /boot/firmware/user-data /boot/firmware/network-config 2>/dev/null'
check "hostname from Imager's user-data" '[ "$(hostname)" = pi-boottest ] && grep -q pi-boottest /etc/hosts'
check "Imager user created with its key, no password" \
	'id imager | grep -q sudo && grep -q boottest-imager /home/imager/.ssh/authorized_keys && passwd -S imager | grep -q " L "'
check "Wi-Fi from network-config written 0600 and enabled" \
	"grep -q 'ssid=\"BootTestNet\"' /etc/wpa_supplicant/wpa_supplicant-wlan0.conf && grep -q country=GB /etc/wpa_supplicant/wpa_supplicant-wlan0.conf && [ \"\$(stat -c %a /etc/wpa_supplicant/wpa_supplicant-wlan0.conf)\" = 600 ] && test -L /etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"
check "time zone applied" '[ "$(readlink /etc/localtime)" = /usr/share/zoneinfo/Europe/London ]'
check "SSH host keys generated on this node" 'ls /etc/ssh/ssh_host_ed25519_key.pub'
check "SSH refuses passwords" 'sshd -T | grep -qx "passwordauthentication no"'
check "root filesystem grown to the card" \
	"[ \$(( \$(blockdev --getsize64 \$(findmnt -no SOURCE /)) )) -gt $orig_bytes ]"
check "no swap" '[ -z "$(swapon --show --noheadings)" ]'
check "journal size-capped" 'systemd-analyze cat-config systemd/journald.conf | grep -q "^SystemMaxUse=64M"'
check "root mounted noatime by label" 'findmnt -no OPTIONS / | grep -q noatime && findmnt -no LABEL / | grep -qx RASPIROOT'
check "fsck in the initrd" 'lsinitramfs /boot/initrd.img-$(uname -r) | grep -q "sbin/fsck.ext4$"'
check "mDNS: avahi publishes <hostname>.local" 'systemctl is-active -q avahi-daemon && getent hosts pi-boottest.local'
vm 'systemd-analyze; systemd-analyze critical-chain picloud.service' 2>&1 | sed 's/^/    /' >&2 || true
score=$(vm 'systemd-analyze security picloud.service --no-pager | tail -n1' || true)
log "systemd-analyze security picloud.service: $score"

# --- the API, over HTTPS trusting only the node's PiCloud CA root -------------
# The agent serves HTTPS on :443 and :80 redirects everything but /healthz
# and /admin/ca.crt, so the root comes over plain HTTP and the rest over TLS
# (the node's certificate covers localhost).
curl -fsS -m 30 -o "$work/ca.crt" "$base/admin/ca.crt" || fail "download /admin/ca.crt"
base="https://localhost:$https_port"
export CURL_CA_BUNDLE="$work/ca.crt"
curl -fsS -m 30 "$base/healthz" >/dev/null || fail "/healthz over HTTPS trusting only the PiCloud root"
log "ok: HTTPS with a certificate from the PiCloud CA"
token=$(curl -fsS -m 30 -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" "$base/api/v1/admin/auth/login" | jq -r .token) ||
	fail "admin login with the password from picloud.toml"
[ -n "$token" ] && [ "$token" != null ] || fail "login answered no token"
log "ok: admin login with the password from picloud.toml"
src='export default { fetch() { return new Response("boottest-" + (40 + 2)) } }'
dep=$(jq -n --arg s "$src" '{app: "default", name: "boottest", source: $s}' |
	curl -fsS -m 60 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		--data-binary @- "$base/api/v1/admin/scripts") || fail "deploy over the admin API"
id=$(echo "$dep" | jq -r .id)
got=$(curl -fsS -m 30 "$base/api/v1/execute/$id") || fail "GET /api/v1/execute/$id"
[ "$got" = boottest-42 ] || fail "script answered '$got'"
log "ok: deployed script $id answers"

# --- reboot keeps the data -----------------------------------------------------
vm 'systemctl reboot' || true
t_reboot=$(date +%s)
while curl -fsS -m 3 "$base/healthz" >/dev/null 2>&1; do
	[ $(($(date +%s) - t_reboot)) -lt 120 ] || fail "node did not go down for the reboot"
	sleep 1
done
t_re=$(wait_healthz "$t_reboot" "$boot_timeout")
log "reboot -> /healthz ok: ${t_re} s"
got=$(curl -fsS -m 30 "$base/api/v1/execute/$id") || fail "script gone after reboot"
[ "$got" = boottest-42 ] || fail "after reboot the script answered '$got'"
log "ok: the deployed script survives a reboot"
wait_ssh
check "first boot did not run again" '[ "$(systemctl show -p ConditionResult --value picloud-firstboot.service)" = no ]'

# --- power off; read the card from the host like a laptop would --------------
vm 'systemctl poweroff' || true
for _ in $(seq 1 120); do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
kill -0 "$qpid" 2>/dev/null && fail "qemu still running 120 s after poweroff"
wait "$qpid" 2>/dev/null || true
qpid=""
mtype -i "$fat" ::/picloud.toml >"$work/after.toml"
grep -q -e "$admin_pw" -e "$secret" "$work/after.toml" && fail "secret still on the card's FAT partition"
mdir -i "$fat" ::/user-data >/dev/null 2>&1 && fail "user-data still on the card"
log "ok: the card's FAT partition holds no secret after first boot"
echo "boottest: power-on to /healthz ${t_healthz}s, reboot to /healthz ${t_re}s, security '${score}'"
echo "boottest: 1 passed, 0 failed"
