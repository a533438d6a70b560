package firstboot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Files on the boot partition.
const (
	SettingsFile      = "picloud.toml"
	UserDataFile      = "user-data"
	NetworkConfigFile = "network-config"
	DoneFile          = "firstboot.done"
	EnvFile           = "picloud.env"
)

// Runner runs a system command; tests record instead of running.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Applier applies first-boot settings to a root filesystem.
type Applier struct {
	Log *slog.Logger
	Run Runner
	// Root is the system root ("/" on the Pi); Boot and State are absolute
	// paths inside it (/boot/firmware, /var/lib/picloud).
	Root, Boot, State string
	// Live is true on the real system: grow the root partition, set the
	// kernel hostname, start units. False in tests and offline use.
	Live bool
	Now  func() time.Time
	// NICWait bounds the wait for a network interface when the hostname
	// is derived from its MAC (default 20 s).
	NICWait time.Duration
}

func (a *Applier) nicWait() time.Duration {
	if a.NICWait > 0 {
		return a.NICWait
	}
	return 20 * time.Second
}

// ErrNoSettings is returned by Load when the boot partition has none of the files.
var ErrNoSettings = errors.New("no settings on the boot partition")

func (a *Applier) path(p string) string { return filepath.Join(a.Root, p) }

// Load reads and merges user-data, network-config and picloud.toml.
func (a *Applier) Load() (Settings, error) {
	var merged Settings
	found := false
	if b, err := os.ReadFile(a.path(filepath.Join(a.Boot, UserDataFile))); err == nil {
		found = true
		s, country, ignored, err := ParseUserData(b)
		if err != nil {
			return Settings{}, err
		}
		if len(ignored) > 0 {
			slices.Sort(ignored)
			a.Log.Warn("user-data keys not applied by PiCloud", "keys", ignored)
		}
		if b, err := os.ReadFile(a.path(filepath.Join(a.Boot, NetworkConfigFile))); err == nil {
			w, err := ParseNetworkConfig(b)
			if err != nil {
				return Settings{}, err
			}
			if w != nil && w.Country == "" {
				w.Country = country
			}
			s.WiFi = w
		}
		merged = s
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Settings{}, fmt.Errorf("reading user-data: %w", err)
	}
	if b, err := os.ReadFile(a.path(filepath.Join(a.Boot, SettingsFile))); err == nil {
		found = true
		s, err := ParseTOML(b)
		if err != nil {
			return Settings{}, err
		}
		merged = Merge(merged, s)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Settings{}, fmt.Errorf("reading picloud.toml: %w", err)
	}
	if !found {
		return Settings{}, ErrNoSettings
	}
	return merged, nil
}

// Apply runs every first-boot step in an order that is safe to repeat: when
// a step fails the done marker is not written and the next boot tries again.
func (a *Applier) Apply(ctx context.Context) error {
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Live {
		if err := a.growRoot(ctx); err != nil {
			// A card that cannot grow still boots; say so and go on.
			a.Log.Error("growing the root filesystem", "err", err)
		}
	}
	if err := a.hostKeys(ctx); err != nil {
		return err
	}
	uid, gid, err := lookupUser(a.path("/etc/passwd"), "picloud")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(a.path(a.State), 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := chown(a.path(a.State), uid, gid); err != nil {
		return err
	}
	if err := a.nodeID(uid, gid); err != nil {
		return err
	}
	s, err := a.Load()
	if errors.Is(err, ErrNoSettings) {
		a.Log.Warn("no picloud.toml or user-data on the boot partition; using defaults")
	} else if err != nil {
		return fmt.Errorf("reading settings (fix the file on the boot partition and reboot): %w", err)
	}
	if err := a.hostname(s.Hostname); err != nil {
		return err
	}
	if err := a.timezone(s.Timezone); err != nil {
		return err
	}
	if err := a.ssh(ctx, s); err != nil {
		return err
	}
	if err := a.users(ctx, s.Users); err != nil {
		return err
	}
	if err := a.wifi(ctx, s.WiFi); err != nil {
		return err
	}
	if err := a.agentEnv(s, uid, gid); err != nil {
		return err
	}
	if err := a.scrub(); err != nil {
		return err
	}
	done := fmt.Sprintf("first boot completed %s\n", a.Now().UTC().Format(time.RFC3339))
	return writeFile(a.path(filepath.Join(a.State, DoneFile)), []byte(done), 0o600, uid, gid)
}

func (a *Applier) growRoot(ctx context.Context) error {
	dev, err := rootDevice("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	name := filepath.Base(dev)
	part, err := os.ReadFile(filepath.Join("/sys/class/block", name, "partition"))
	if err != nil {
		return fmt.Errorf("root %s is not a partition: %w", dev, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join("/sys/class/block", name))
	if err != nil {
		return fmt.Errorf("resolving %s: %w", name, err)
	}
	disk := "/dev/" + filepath.Base(filepath.Dir(real))
	out, err := a.Run.Run(ctx, "growpart", disk, strings.TrimSpace(string(part)))
	if err != nil && !bytes.Contains(out, []byte("NOCHANGE")) {
		return fmt.Errorf("growpart %s: %w: %s", disk, err, out)
	}
	if out, err := a.Run.Run(ctx, "resize2fs", dev); err != nil {
		return fmt.Errorf("resize2fs %s: %w: %s", dev, err, out)
	}
	a.Log.Info("root filesystem grown", "device", dev)
	return nil
}

// rootDevice reads the source of "/" from a mountinfo file.
func rootDevice(mountinfo string) (string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", fmt.Errorf("reading mountinfo: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[4] != "/" {
			continue
		}
		for i, fl := range fields {
			if fl == "-" && i+2 < len(fields) && strings.HasPrefix(fields[i+2], "/dev/") {
				return fields[i+2], nil
			}
		}
	}
	return "", errors.New("root device not found in mountinfo")
}

func (a *Applier) hostKeys(ctx context.Context) error {
	args := []string{"-A"}
	if a.Root != "/" {
		args = append(args, "-f", a.Root)
	}
	if out, err := a.Run.Run(ctx, "ssh-keygen", args...); err != nil {
		return fmt.Errorf("generating SSH host keys: %w: %s", err, out)
	}
	return nil
}

func (a *Applier) nodeID(uid, gid int) error {
	p := a.path(filepath.Join(a.State, "node-id"))
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("node id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	a.Log.Info("node identity created", "node_id", id)
	return writeFile(p, []byte(id+"\n"), 0o600, uid, gid)
}

// DefaultHostname derives a name unique per board: picloud-<4 hex digits>
// from the MAC address of the first wired network interface (else the first
// wireless one), else from the machine id. Every card is flashed from the
// same image, so a fixed name would collide on the LAN. Interface names
// differ by board and kernel (eth0 on a Pi 3, end0 on a Pi 4 with systemd
// 252, enp0s1 under qemu), so every physical interface in sysfs counts.
func DefaultHostname(root string) string {
	if name := macHostname(root); name != "" {
		return name
	}
	if b, err := os.ReadFile(filepath.Join(root, "/etc/machine-id")); err == nil && len(bytes.TrimSpace(b)) >= 4 {
		return "picloud-" + string(bytes.TrimSpace(b)[:4])
	}
	r := make([]byte, 2)
	_, _ = rand.Read(r)
	return "picloud-" + hex.EncodeToString(r)
}

// macHostname is picloud-<last 4 hex digits of a MAC>, or "" when no
// physical interface (one with a device link: not lo, bridges, veth) has a
// usable address. Wired interfaces come first, then by name.
func macHostname(root string) string {
	dir := filepath.Join(root, "/sys/class/net")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var wired, wireless []string
	for _, e := range ents {
		ifc := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(ifc, "device")); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(ifc, "address"))
		if err != nil {
			continue
		}
		mac := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(string(b)), ":", ""))
		if _, err := hex.DecodeString(mac); err != nil || len(mac) != 12 || mac == "000000000000" {
			continue
		}
		if _, err := os.Stat(filepath.Join(ifc, "wireless")); err == nil {
			wireless = append(wireless, mac)
		} else {
			wired = append(wired, mac)
		}
	}
	// ReadDir sorts by name, so the first of each kind is stable.
	for _, macs := range [][]string{wired, wireless} {
		if len(macs) > 0 {
			return "picloud-" + macs[0][8:]
		}
	}
	return ""
}

func (a *Applier) hostname(name string) error {
	if name == "" {
		// The network drivers are modules that udev may still be loading
		// this early in boot: wait a little for a MAC before falling back
		// to the machine id (a board without any network still boots).
		for deadline := time.Now().Add(a.nicWait()); a.Live && macHostname(a.Root) == "" && time.Now().Before(deadline); {
			time.Sleep(250 * time.Millisecond)
		}
		name = DefaultHostname(a.Root)
	}
	if err := writeFile(a.path("/etc/hostname"), []byte(name+"\n"), 0o644, 0, 0); err != nil {
		return err
	}
	hosts, err := os.ReadFile(a.path("/etc/hosts"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading /etc/hosts: %w", err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(hosts), "\n"), "\n") {
		if l != "" && !strings.HasPrefix(strings.TrimSpace(l), "127.0.1.1") {
			out = append(out, l)
		}
	}
	if !slices.ContainsFunc(out, func(l string) bool { return strings.HasPrefix(l, "127.0.0.1") }) {
		out = append([]string{"127.0.0.1\tlocalhost"}, out...)
	}
	out = append(out, "127.0.1.1\t"+name)
	if err := writeFile(a.path("/etc/hosts"), []byte(strings.Join(out, "\n")+"\n"), 0o644, 0, 0); err != nil {
		return err
	}
	if a.Live {
		if err := setHostname(name); err != nil {
			return fmt.Errorf("setting hostname: %w", err)
		}
	}
	a.Log.Info("hostname set", "hostname", name)
	return nil
}

func (a *Applier) timezone(tz string) error {
	if tz == "" {
		return nil
	}
	zone := filepath.Join("/usr/share/zoneinfo", tz)
	if _, err := os.Stat(a.path(zone)); err != nil {
		a.Log.Warn("unknown time zone; keeping UTC", "timezone", tz)
		return nil
	}
	_ = os.Remove(a.path("/etc/localtime"))
	if err := os.Symlink(zone, a.path("/etc/localtime")); err != nil {
		return fmt.Errorf("setting time zone: %w", err)
	}
	return writeFile(a.path("/etc/timezone"), []byte(tz+"\n"), 0o644, 0, 0)
}

func (a *Applier) ssh(ctx context.Context, s Settings) error {
	if len(s.RootAuthorizedKeys) > 0 {
		if err := appendKeys(a.path("/root/.ssh"), s.RootAuthorizedKeys, 0, 0); err != nil {
			return err
		}
	}
	pw := "no"
	if s.SSHPasswordAuth {
		pw = "yes"
	}
	conf := "# Written by picloud-firstboot from the boot partition's settings.\n" +
		"PasswordAuthentication " + pw + "\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
	return writeFile(a.path("/etc/ssh/sshd_config.d/50-picloud.conf"), []byte(conf), 0o644, 0, 0)
}

func appendKeys(dir string, keys []string, uid, gid int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := chown(dir, uid, gid); err != nil {
		return err
	}
	p := filepath.Join(dir, "authorized_keys")
	old, _ := os.ReadFile(p)
	var b strings.Builder
	b.Write(old)
	for _, k := range keys {
		if !strings.Contains(string(old), k) {
			b.WriteString(k + "\n")
		}
	}
	return writeFile(p, []byte(b.String()), 0o600, uid, gid)
}

func (a *Applier) users(ctx context.Context, users []User) error {
	groups, err := readNames(a.path("/etc/group"))
	if err != nil {
		return err
	}
	for _, u := range users {
		var have []string
		for _, g := range u.Groups {
			if slices.Contains(groups, g) {
				have = append(have, g)
			}
		}
		shell := u.Shell
		if shell == "" {
			shell = "/bin/bash"
		}
		args := []string{"--create-home", "--shell", shell}
		if len(have) > 0 {
			args = append(args, "--groups", strings.Join(have, ","))
		}
		if a.Root != "/" {
			args = append(args, "--root", a.Root)
		}
		if out, err := a.Run.Run(ctx, "useradd", append(args, u.Name)...); err != nil {
			return fmt.Errorf("useradd %s: %w: %s", u.Name, err, out)
		}
		mod := []string{}
		if a.Root != "/" {
			mod = append(mod, "--root", a.Root)
		}
		switch {
		case u.PasswordHash != "" && !u.LockPassword:
			mod = append(mod, "--password", u.PasswordHash)
		default:
			mod = append(mod, "--lock")
		}
		if out, err := a.Run.Run(ctx, "usermod", append(mod, u.Name)...); err != nil {
			return fmt.Errorf("usermod %s: %w: %s", u.Name, err, out)
		}
		if len(u.AuthorizedKeys) > 0 {
			uid, gid, err := lookupUser(a.path("/etc/passwd"), u.Name)
			if err != nil {
				return err
			}
			if err := appendKeys(a.path(filepath.Join("/home", u.Name, ".ssh")), u.AuthorizedKeys, uid, gid); err != nil {
				return err
			}
		}
		if u.Sudo {
			line := u.Name + " ALL=(ALL) NOPASSWD:ALL\n"
			if err := writeFile(a.path("/etc/sudoers.d/90-picloud-"+u.Name), []byte(line), 0o440, 0, 0); err != nil {
				return err
			}
		}
		a.Log.Info("user created", "user", u.Name, "groups", have, "password_login", u.PasswordHash != "" && !u.LockPassword)
	}
	return nil
}

func (a *Applier) wifi(ctx context.Context, w *WiFi) error {
	if w == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("# Written by picloud-firstboot.\nctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\nupdate_config=0\n")
	if w.Country != "" {
		b.WriteString("country=" + w.Country + "\n")
	}
	b.WriteString("network={\n\tssid=\"" + w.SSID + "\"\n")
	switch {
	case w.PSK == "":
		b.WriteString("\tkey_mgmt=NONE\n")
	case hexPSKRE.MatchString(w.PSK):
		b.WriteString("\tpsk=" + strings.ToLower(w.PSK) + "\n")
	default:
		b.WriteString("\tpsk=\"" + w.PSK + "\"\n")
	}
	if w.Hidden {
		b.WriteString("\tscan_ssid=1\n")
	}
	b.WriteString("}\n")
	if err := writeFile(a.path("/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"), []byte(b.String()), 0o600, 0, 0); err != nil {
		return err
	}
	// Start wpa_supplicant when wlan0 appears, not at boot: a board without
	// Wi-Fi (or with it disabled) must not wait 90 s for a device that never
	// comes, holding network-online.target and the agent back.
	wants := a.path("/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return fmt.Errorf("enabling Wi-Fi: %w", err)
	}
	link := filepath.Join(wants, "wpa_supplicant@wlan0.service")
	_ = os.Remove(link)
	if err := os.Symlink("/lib/systemd/system/wpa_supplicant@.service", link); err != nil {
		return fmt.Errorf("enabling Wi-Fi: %w", err)
	}
	if _, err := os.Stat("/sys/class/net/wlan0"); a.Live && err == nil {
		// The device is already up (udev ran before us): start it now.
		if out, err := a.Run.Run(ctx, "systemctl", "--no-block", "start", "wpa_supplicant@wlan0.service"); err != nil {
			a.Log.Warn("starting Wi-Fi", "err", err, "output", string(out))
		}
	}
	a.Log.Info("Wi-Fi configured", "ssid", w.SSID, "country", w.Country)
	return nil
}

// agentEnv writes the agent's settings and secrets, 0600, for systemd's
// EnvironmentFile=. A missing admin password or cluster secret is generated:
// the image has no default password.
func (a *Applier) agentEnv(s Settings, uid, gid int) error {
	p := a.path(filepath.Join(a.State, EnvFile))
	if _, err := os.Stat(p); err == nil && s.AdminPassword == "" && s.ClusterSecret == "" {
		return nil // a retry after a partial first boot keeps what it generated
	}
	user := s.AdminUser
	if user == "" {
		user = "admin"
	}
	pass := s.AdminPassword
	if pass == "" {
		pass = randomToken(15)
		a.Log.Warn("no admin password in picloud.toml; generated one (also in "+filepath.Join(a.State, "admin-password")+")",
			"user", user, "password", pass)
		if err := writeFile(a.path(filepath.Join(a.State, "admin-password")), []byte(pass+"\n"), 0o600, uid, gid); err != nil {
			return err
		}
	}
	secret := s.ClusterSecret
	if secret == "" {
		secret = randomToken(32)
		a.Log.Warn("no cluster_secret in picloud.toml; generated one, so this node forms a cluster of its own")
	}
	cluster := s.ClusterName
	if cluster == "" {
		cluster = "picloud"
	}
	var b strings.Builder
	b.WriteString("# Written by picloud-firstboot from the boot partition's settings.\n")
	for _, kv := range [][2]string{
		{"PICLOUD_ADMIN_USER", user},
		{"PICLOUD_ADMIN_PASSWORD", pass},
		{"PICLOUD_CLUSTER_NAME", cluster},
		{"PICLOUD_CLUSTER_SECRET", secret},
	} {
		b.WriteString(kv[0] + "=" + EnvQuote(kv[1]) + "\n")
	}
	return writeFile(p, []byte(b.String()), 0o600, uid, gid)
}

// EnvQuote quotes v for a systemd EnvironmentFile line.
func EnvQuote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(v) + `"`
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "=")
}

// scrub removes secrets from the FAT partition: picloud.toml keeps its
// non-secret lines, the cloud-init files (one-shot by nature) are deleted.
func (a *Applier) scrub() error {
	p := a.path(filepath.Join(a.Boot, SettingsFile))
	if b, err := os.ReadFile(p); err == nil {
		note := "Applied by PiCloud at first boot " + a.Now().UTC().Format(time.RFC3339) +
			"; secrets now live in /var/lib/picloud. Editing this file has no further effect."
		clean, err := ScrubTOML(b, note)
		if err != nil {
			a.Log.Error("scrubbing picloud.toml failed; deleting it", "err", err)
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("removing picloud.toml: %w", err)
			}
		} else if err := replaceFile(p, clean); err != nil {
			return err
		}
	}
	for _, name := range []string{UserDataFile, NetworkConfigFile} {
		if err := os.Remove(a.path(filepath.Join(a.Boot, name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", name, err)
		}
	}
	return syncDir(a.path(a.Boot))
}

// replaceFile overwrites p in place and syncs it. On FAT a rename would work
// too, but overwriting leaves no copy of the old text in another directory entry.
func replaceFile(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", p, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("rewriting %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", p, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	_ = d.Sync() // not every filesystem supports syncing a directory
	return nil
}

func writeFile(p string, b []byte, mode os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	if err := chown(tmp, uid, gid); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// lookupUser reads uid and gid of name from a passwd file (of the target
// root, not the running system's NSS).
func lookupUser(passwd, name string) (int, int, error) {
	b, err := os.ReadFile(passwd)
	if err != nil {
		return 0, 0, fmt.Errorf("reading passwd: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 4 && f[0] == name {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("bad passwd entry for %s", name)
			}
			return uid, gid, nil
		}
	}
	return 0, 0, fmt.Errorf("user %s not found in %s", name, passwd)
}

func readNames(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		if n, _, ok := strings.Cut(l, ":"); ok {
			names = append(names, n)
		}
	}
	return names, nil
}

// chown sets ownership when running as root (always, on the Pi); an
// unprivileged test run cannot and need not.
func chown(p string, uid, gid int) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	return nil
}
