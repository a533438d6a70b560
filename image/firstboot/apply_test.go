package firstboot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recorder records commands; for useradd it also adds the passwd line, as
// the real command would, so that later steps find the user.
type recorder struct {
	root  string
	calls []string
}

func (r *recorder) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	r.calls = append(r.calls, name+" "+strings.Join(args, " "))
	if name == "useradd" {
		f, err := os.OpenFile(filepath.Join(r.root, "etc/passwd"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		_, err = fmt.Fprintf(f, "%s:x:%d:%d::/home/%s:/bin/bash\n", args[len(args)-1], os.Getuid(), os.Getgid(), args[len(args)-1])
		return nil, err
	}
	return nil, nil
}

// newRoot lays out the few files of a target root that Apply reads.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"etc/passwd":                      fmt.Sprintf("root:x:0:0::/root:/bin/bash\npicloud:x:%d:%d::/var/lib/picloud:/usr/sbin/nologin\n", os.Getuid(), os.Getgid()),
		"etc/group":                       "root:x:0:\nsudo:x:27:\nadm:x:4:\nusers:x:100:\n",
		"etc/hosts":                       "127.0.0.1\tlocalhost\n127.0.1.1\tlocalhost-old\n",
		"etc/machine-id":                  "0123456789abcdef0123456789abcdef\n",
		"usr/share/zoneinfo/UTC":          "TZif",
		"usr/share/zoneinfo/Europe/Paris": "TZif",
		"boot/firmware/config.txt":        "arm_64bit=1\n",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func applier(root string, r Runner) *Applier {
	return &Applier{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Run: r,
		Root: root, Boot: "/boot/firmware", State: "/var/lib/picloud",
		Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		check func(t *testing.T, root string, calls []string)
	}{
		{
			name:  "picloud.toml and Imager files",
			files: map[string]string{"picloud.toml": sampleTOML, "user-data": imagerUserData, "network-config": imagerNetworkConfig, "meta-data": "instance-id: x\n"},
			check: func(t *testing.T, root string, calls []string) {
				if got := read(t, root+"/etc/hostname"); got != "pi-one\n" {
					t.Errorf("hostname %q (picloud.toml must win over user-data)", got)
				}
				if h := read(t, root+"/etc/hosts"); !strings.Contains(h, "127.0.1.1\tpi-one") || strings.Contains(h, "localhost-old") {
					t.Errorf("hosts %q", h)
				}
				env := read(t, root+"/var/lib/picloud/picloud.env")
				for _, want := range []string{`PICLOUD_ADMIN_PASSWORD="hunter2-admin"`, `PICLOUD_CLUSTER_SECRET="s3cret-cluster"`, `PICLOUD_CLUSTER_NAME="home"`} {
					if !strings.Contains(env, want) {
						t.Errorf("env lacks %s:\n%s", want, env)
					}
				}
				if fi, _ := os.Stat(root + "/var/lib/picloud/picloud.env"); fi.Mode().Perm() != 0o600 {
					t.Errorf("env mode %v", fi.Mode())
				}
				toml := read(t, root+"/boot/firmware/picloud.toml")
				for _, s := range []string{"hunter2-admin", "s3cret-cluster", "wifi-passphrase"} {
					if strings.Contains(toml, s) {
						t.Errorf("secret %s left on the boot partition", s)
					}
				}
				for _, f := range []string{"user-data", "network-config"} {
					if _, err := os.Stat(root + "/boot/firmware/" + f); err == nil {
						t.Errorf("%s not removed", f)
					}
				}
				if _, err := os.Stat(root + "/boot/firmware/meta-data"); err != nil {
					t.Errorf("meta-data removed: %v", err)
				}
				wpa := read(t, root+"/etc/wpa_supplicant/wpa_supplicant-wlan0.conf")
				if !strings.Contains(wpa, `ssid="HomeNet"`) || !strings.Contains(wpa, `psk="wifi-passphrase"`) || !strings.Contains(wpa, "country=GB") {
					t.Errorf("wpa conf:\n%s", wpa)
				}
				if l, err := os.Readlink(root + "/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"); err != nil || !strings.HasSuffix(l, "wpa_supplicant@.service") {
					t.Errorf("wifi not enabled: %v %v", l, err)
				}
				if !strings.Contains(read(t, root+"/root/.ssh/authorized_keys"), "me@laptop") {
					t.Error("root key missing")
				}
				if !strings.Contains(read(t, root+"/etc/ssh/sshd_config.d/50-picloud.conf"), "PasswordAuthentication no") {
					t.Error("password auth not disabled")
				}
				if l, _ := os.Readlink(root + "/etc/localtime"); l != "/usr/share/zoneinfo/Europe/London" && l != "" {
					t.Errorf("localtime %q", l)
				}
				joined := strings.Join(calls, "\n")
				for _, want := range []string{"ssh-keygen -A -f " + root, "useradd --create-home --shell /bin/bash --groups users,adm,sudo --root " + root + " alice", "usermod --root " + root + " --password $5$abc$0123456789abcdef alice"} {
					if !strings.Contains(joined, want) {
						t.Errorf("missing call %q in\n%s", want, joined)
					}
				}
				if !strings.Contains(read(t, root+"/etc/sudoers.d/90-picloud-alice"), "alice ALL=(ALL) NOPASSWD:ALL") {
					t.Error("sudoers")
				}
			},
		},
		{
			name:  "nothing on the card: unique hostname, generated secrets",
			files: map[string]string{},
			check: func(t *testing.T, root string, _ []string) {
				if got := read(t, root+"/etc/hostname"); got != "picloud-0123\n" {
					t.Errorf("hostname %q", got)
				}
				pass := strings.TrimSpace(read(t, root+"/var/lib/picloud/admin-password"))
				if len(pass) < 16 || !strings.Contains(read(t, root+"/var/lib/picloud/picloud.env"), pass) {
					t.Errorf("generated password %q not in env", pass)
				}
				if !strings.Contains(read(t, root+"/var/lib/picloud/picloud.env"), `PICLOUD_ADMIN_USER="admin"`) {
					t.Error("default admin user")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t)
			for n, c := range tt.files {
				if err := os.WriteFile(filepath.Join(root, "boot/firmware", n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := &recorder{root: root}
			if err := applier(root, r).Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			id := strings.TrimSpace(read(t, root+"/var/lib/picloud/node-id"))
			if len(id) != 36 || id[14] != '4' {
				t.Errorf("node id %q", id)
			}
			if !strings.Contains(read(t, root+"/var/lib/picloud/firstboot.done"), "2026-11-27") {
				t.Error("done marker")
			}
			tt.check(t, root, r.calls)
		})
	}
}

func TestApplyBadSettingsKeepsFilesAndNoMarker(t *testing.T) {
	root := newRoot(t)
	bad := "hostname = \"Not_Valid\"\ncluster_secret = \"keep-me\"\n"
	p := filepath.Join(root, "boot/firmware/picloud.toml")
	if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := applier(root, &recorder{root: root}).Apply(context.Background()); err == nil {
		t.Fatal("bad settings applied")
	}
	if read(t, p) != bad {
		t.Error("file changed although it was not applied")
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/picloud/firstboot.done")); err == nil {
		t.Error("done marker written after a failure")
	}
}

func TestRootDevice(t *testing.T) {
	mi := filepath.Join(t.TempDir(), "mountinfo")
	content := "22 28 0:21 / /sys rw,nosuid - sysfs sysfs rw\n" +
		"28 1 254:2 / / rw,noatime shared:1 - ext4 /dev/vda2 rw\n"
	if err := os.WriteFile(mi, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := rootDevice(mi)
	if err != nil || got != "/dev/vda2" {
		t.Errorf("rootDevice = %q, %v", got, err)
	}
}

func TestEnvQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c$d`, `"a\"b\\c\$d"`},
	}
	for _, tt := range tests {
		if got := EnvQuote(tt.in); got != tt.want {
			t.Errorf("EnvQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDefaultHostname(t *testing.T) {
	type nic struct {
		name, mac        string
		device, wireless bool
	}
	tests := []struct {
		name      string
		nics      []nic
		machineID string
		want      string
	}{
		{"pi4 end0", []nic{{"end0", "dc:a6:32:01:ab:cd", true, false}, {"lo", "00:00:00:00:00:00", false, false}}, "", "picloud-abcd"},
		{"qemu enp0s1", []nic{{"enp0s1", "52:54:00:12:34:56", true, false}}, "", "picloud-3456"},
		{"wired before wireless", []nic{{"eth0", "b8:27:eb:00:11:22", true, false}, {"wlan0", "b8:27:eb:00:33:44", true, true}}, "", "picloud-1122"},
		{"wireless only (Zero 2 W)", []nic{{"wlan0", "b8:27:eb:00:33:44", true, true}}, "", "picloud-3344"},
		{"virtual interfaces ignored", []nic{{"br0", "02:42:ac:11:00:02", false, false}}, "0123456789abcdef\n", "picloud-0123"},
		{"bad MAC ignored", []nic{{"eth0", "zz:zz", true, false}}, "fedcba98\n", "picloud-fedc"},
		{"no network", nil, "9876543210\n", "picloud-9876"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, n := range tc.nics {
				d := filepath.Join(root, "sys/class/net", n.name)
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "address"), []byte(n.mac+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if n.device {
					if err := os.Mkdir(filepath.Join(d, "device"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				if n.wireless {
					if err := os.Mkdir(filepath.Join(d, "wireless"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.machineID != "" {
				if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte(tc.machineID), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := DefaultHostname(root); got != tc.want {
				t.Errorf("DefaultHostname = %q, want %q", got, tc.want)
			}
		})
	}
}
