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
boot_timeout=${PICLOUD_BOOTTEST_TIMEOUT:-1200}
for t in qemu-system-aarch64 mcopy mtype jq curl ssh ssh-keygen sfdisk; do
	command -v "$t" >/dev/null || die "missing $t"
done

work=$(mktemp -d "${PICLOUD_IMAGE_WORK:-/var/tmp}/picloud-boottest.XXXXXX")
qpid=""
cleanup() {
	[ ! -S "$work/ssh.sock" ] || ssh -o ControlPath="$work/ssh.sock" -O exit root@127.0.0.1 >/dev/null 2>&1 || true
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill "$qpid" 2>/dev/null || true; fi
	if [ "${PICLOUD_BOOTTEST_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
	trap - TERM INT
	log "FAIL: $*"
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null && [ -n "${ssh_port:-}" ]; then
		log "the node's view (if SSH answers):"
		vm 'systemctl --failed --no-legend --plain; systemctl status --no-pager -n0 picloud-firstboot picloud; journalctl -b --no-pager -n 40 -u picloud-firstboot -u picloud' 2>&1 |
			sed 's/^/    /' >&2 || true
	fi
	if [ -f "$work/console.log" ]; then
		log "last serial console lines ($work/console.log):"
		tail -n 60 "$work/console.log" | sed 's/^/    /' >&2
	fi
	exit 1
}
trap 'fail "interrupted (timeout?)"' TERM INT

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
# A random MAC per run: the node must name itself picloud-<last 4 hex digits>
# (no hostname in the settings), so every board gets its own .local name.
mac_tail=$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
mac="52:54:00:${mac_tail:0:2}:${mac_tail:2:2}:${mac_tail:4:2}"
host="picloud-${mac_tail:2:4}"
start_qemu() {
	qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
		-nodefaults -no-user-config -display none -monitor none \
		-kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$append" \
		-drive "file=$work/disk.img,format=raw,if=virtio,cache=unsafe" \
		-device virtio-rng-pci \
		-netdev "user,id=n0,hostname=qemu,hostfwd=tcp:127.0.0.1:$http_port-:80,hostfwd=tcp:127.0.0.1:$https_port-:443,hostfwd=tcp:127.0.0.1:$ssh_port-:22" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" \
		-serial "file:$work/console.log" &
	qpid=$!
}
http_base="http://127.0.0.1:$http_port"
ssh_opts=(-q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile="$work/known_hosts"
	-o ConnectTimeout=60 -o ServerAliveInterval=30 -i "$work/root_key" -p "$ssh_port"
	-o ControlPath="$work/ssh.sock")
# Every check reuses one SSH connection (wait_ssh opens it): a handshake
# costs seconds in an emulated VM, more than 10 s on a loaded host. Without
# it, ssh connects directly. ssh's own failures (255: no connection) are
# retried, so a slow sshd is not taken for a failed check.
vm() {
	local rc try
	for try in 1 2 3; do
		rc=0
		timeout 300 ssh "${ssh_opts[@]}" -o ControlMaster=no root@127.0.0.1 "$@" || rc=$?
		[ "$rc" = 255 ] || return "$rc"
		sleep 5
	done
	return "$rc"
}
# wait_healthz LIMIT: seconds until /healthz says ok, or fail.
wait_healthz() {
	local start=$1 limit=$2
	while :; do
		if [ "$(curl -fsS -m 5 "$http_base/healthz" 2>/dev/null)" = ok ]; then
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
	ssh "${ssh_opts[@]}" -O exit root@127.0.0.1 >/dev/null 2>&1 || true
	rm -f "$work/ssh.sock"
	timeout 60 ssh "${ssh_opts[@]}" -o ControlMaster=yes -f -N root@127.0.0.1 </dev/null >/dev/null 2>&1 || true
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

log "booting (http 127.0.0.1:$http_port, https 127.0.0.1:$https_port, ssh 127.0.0.1:$ssh_port, MAC $mac, timeout ${boot_timeout}s)"
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
# Type=notify: the unit is "active" only once the agent sent READY=1, and
# systemd logs "Started" at that moment (not when the process starts).
check "agent READY: picloud.service Type=notify, active/running, watchdog on, no restart" \
	'eval "$(systemctl show -p Type -p ActiveState -p SubState -p WatchdogUSec -p NRestarts picloud | sed "s/=\(.*\)/=\"\1\"/")"; echo "$Type $ActiveState $SubState watchdog=$WatchdogUSec restarts=$NRestarts"; [ "$Type $ActiveState $SubState $NRestarts" = "notify active running 0" ] && [ "$WatchdogUSec" != 0 ] && [ "$WatchdogUSec" != infinity ]'
check "the journal has systemd's 'Started picloud.service' (sent on READY=1)" \
	'journalctl -b -u picloud.service -o cat --no-pager | grep -q "^Started picloud.service"'
ready=$(vm 'eval "$(systemctl show -p ExecMainStartTimestampMonotonic -p ActiveEnterTimestampMonotonic picloud)"; echo $(( (ActiveEnterTimestampMonotonic - ExecMainStartTimestampMonotonic) / 1000000 ))' || echo "?")
log "agent start -> READY=1: ${ready} s (initdb, migrations, TLS)"
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
check "unique hostname derived from the MAC ($host)" "[ \"\$(hostname)\" = $host ] && grep -q '127.0.1.1.*$host' /etc/hosts"
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
check "fsck in the initrd, and it checked the root at this boot" \
	'lsinitramfs /boot/initrd.img-$(uname -r) | grep -q "sbin/fsck.ext4$" && test -s /run/initramfs/fsck.log'
vm 'cat /run/initramfs/fsck.log' 2>&1 | sed 's/^/    /' >&2 || true
check "mDNS: avahi publishes $host.local" "systemctl is-active -q avahi-daemon && getent hosts $host.local"
vm 'systemd-analyze; systemd-analyze critical-chain picloud.service' 2>&1 | sed 's/^/    /' >&2 || true
score=$(vm 'systemd-analyze security picloud.service --no-pager | tail -n1' || true)
log "systemd-analyze security picloud.service: $score"
# The hardening must not regress: "OK" ends below 4 on systemd's scale; the
# unit scored 1.6.
awk -v s="$(echo "$score" | grep -oE '[0-9]+\.[0-9]+' | head -n1)" 'BEGIN { exit !(s != "" && s + 0 <= 2.5) }' ||
	fail "systemd-analyze security picloud.service scored '$score' (want <= 2.5)"

# --- the API, over HTTPS trusting only the node's PiCloud CA root -------------
# The agent serves HTTPS on :443 and :80 redirects everything but /healthz
# and /admin/ca.crt, so the root comes over plain HTTP and the rest over TLS.
# Requests go to https://<hostname>.local as a person's browser would
# (curl --resolve maps the name to the forwarded port), so the node's
# certificate must cover its own mDNS name.
curl -fsS -m 30 -o "$work/ca.crt" "$http_base/admin/ca.crt" || fail "download /admin/ca.crt over HTTP"
grep -q 'BEGIN CERTIFICATE' "$work/ca.crt" || fail "/admin/ca.crt is not a PEM certificate"
redir=$(curl -sS -m 30 -o /dev/null -w '%{http_code} %{redirect_url}' "$http_base/api/v1/admin/auth/me") ||
	fail "GET http://.../api/v1/admin/auth/me"
case "$redir" in
30[1278]\ https://*) log "ok: plain HTTP redirects to HTTPS ($redir)" ;;
*) fail "plain HTTP did not redirect to HTTPS: '$redir'" ;;
esac
base="https://$host.local:$https_port"
export CURL_CA_BUNDLE="$work/ca.crt"
api() { # api METHOD PATH [JSON]: the admin API as the bootstrap admin
	curl -fsS -m 60 --resolve "$host.local:$https_port:127.0.0.1" -X "$1" \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$base/api/v1/admin$2"
}
get() { curl -fsS -m 30 --resolve "$host.local:$https_port:127.0.0.1" "$base$1"; }
# The leaf is issued on demand with NotBefore = the guest's now, and an
# emulated guest's clock can run a little ahead of the host's: give the
# first handshake a bounded minute before calling it a failure.
https_deadline=$((SECONDS + 60))
until get /healthz >/dev/null; do
	[ "$SECONDS" -lt "$https_deadline" ] || fail "/healthz over HTTPS at $host.local, trusting only the node's PiCloud root"
	log "HTTPS not accepted yet (host $(date -u +%T), guest $(vm date -u +%T 2>/dev/null || echo '?')); retrying"
	sleep 5
done
log "ok: https://$host.local/healthz with a certificate from the node's own CA"
token=$(curl -fsS -m 30 --resolve "$host.local:$https_port:127.0.0.1" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" "$base/api/v1/admin/auth/login" | jq -r .token) ||
	fail "admin login with the password from picloud.toml"
[ -n "$token" ] && [ "$token" != null ] || fail "login answered no token"
log "ok: admin login with the password from picloud.toml"
src='export default { fetch(req, env, ctx) { return new Response("boottest-" + ctx.params.n) } }'
dep=$(api POST /scripts "$(jq -nc --arg s "$src" '{app: "default", name: "boottest", source: $s}')") ||
	fail "deploy a script over the admin API"
id=$(echo "$dep" | jq -r .id)
api POST /apps/default/domains "$(jq -nc --arg p "$host.local" '{pattern: $p}')" >/dev/null ||
	fail "claim $host.local for the default app"
api POST /routes '{"app":"default","script":"boottest","method":"GET","path":"/boottest/:n"}' >/dev/null ||
	fail "add the route GET /boottest/:n"
# Route changes reach the edge through LISTEN/NOTIFY: allow a moment.
got=""
for _ in $(seq 1 30); do
	got=$(get /boottest/42 2>/dev/null) && [ "$got" = boottest-42 ] && break
	sleep 1
done
[ "$got" = boottest-42 ] || fail "GET https://$host.local/boottest/42 answered '$got' (want boottest-42)"
log "ok: script $id deployed over the admin API answers at https://$host.local/boottest/42"

# --- reboot keeps the data -----------------------------------------------------
vm 'systemctl reboot' || true
t_reboot=$(date +%s)
while curl -fsS -m 3 "$http_base/healthz" >/dev/null 2>&1; do
	[ $(($(date +%s) - t_reboot)) -lt 180 ] || fail "node did not go down for the reboot"
	sleep 1
done
t_re=$(wait_healthz "$t_reboot" "$boot_timeout")
log "reboot -> /healthz ok: ${t_re} s"
got=$(get /boottest/7) || fail "GET https://$host.local/boottest/7 after the reboot: script, claim or route lost"
[ "$got" = boottest-7 ] || fail "after the reboot the route answered '$got' (want boottest-7)"
log "ok: the script, its domain claim and route survive a reboot"
wait_ssh
check "first boot did not run again" '[ "$(systemctl show -p ConditionResult --value picloud-firstboot.service)" = no ]'
check "agent READY again after the reboot" '[ "$(systemctl show -p ActiveState --value picloud)" = active ] && [ "$(systemctl show -p NRestarts --value picloud)" = 0 ]'

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
