package firstboot

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const sampleTOML = `# PiCloud settings
hostname = "pi-one"
cluster_name = "home"
cluster_secret = "s3cret-cluster"
timezone = "Europe/London"

[admin]
user = "admin"
password = "hunter2-admin"

[ssh]
authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfX me@laptop"]
password_authentication = false

[wifi]
ssid = "HomeNet"
psk = "wifi-passphrase"
country = "gb"
`

func TestParseTOML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(t *testing.T, s Settings)
		wantErr error
	}{
		{name: "full", in: sampleTOML, check: func(t *testing.T, s Settings) {
			if s.Hostname != "pi-one" || s.ClusterName != "home" || s.ClusterSecret != "s3cret-cluster" || s.AdminPassword != "hunter2-admin" {
				t.Errorf("got %+v", s)
			}
			if s.WiFi == nil || s.WiFi.SSID != "HomeNet" || s.WiFi.Country != "GB" {
				t.Errorf("wifi %+v", s.WiFi)
			}
			if len(s.RootAuthorizedKeys) != 1 {
				t.Errorf("keys %v", s.RootAuthorizedKeys)
			}
		}},
		{name: "empty file is defaults", in: "", check: func(t *testing.T, s Settings) {
			if s.Hostname != "" || s.WiFi != nil {
				t.Errorf("got %+v", s)
			}
		}},
		{name: "unknown key", in: "hostnme = \"x\"\n", wantErr: nil},
		{name: "bad hostname", in: "hostname = \"Bad_Name\"\n", wantErr: ErrInvalid},
		{name: "short psk", in: "[wifi]\nssid = \"n\"\npsk = \"short\"\n", wantErr: ErrInvalid},
		{name: "hex psk ok", in: "[wifi]\nssid = \"n\"\npsk = \"" + strings.Repeat("ab", 32) + "\"\n"},
		{name: "bad key", in: "[ssh]\nauthorized_keys = [\"not a key\"]\n", wantErr: ErrInvalid},
		{name: "bad country", in: "[wifi]\nssid = \"n\"\npsk = \"12345678\"\ncountry = \"GBR\"\n", wantErr: ErrInvalid},
		{name: "newline in secret", in: "cluster_secret = \"a\\nb\"\n", wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseTOML([]byte(tt.in))
			if tt.name == "unknown key" {
				if err == nil {
					t.Fatal("unknown key accepted")
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// imagerUserData is what Raspberry Pi Imager writes for "set hostname, user
// with password, SSH with public key, Wi-Fi, locale".
const imagerUserData = `#cloud-config
hostname: pi-imager
manage_etc_hosts: true
packages:
- avahi-daemon
apt:
  conf: |
    Acquire {
      Check-Date "false";
    };

users:
- name: alice
  groups: users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo
  shell: /bin/bash
  lock_passwd: false
  passwd: $5$abc$0123456789abcdef
  ssh_authorized_keys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey alice@desk
  sudo: ALL=(ALL) NOPASSWD:ALL

timezone: Europe/Paris
runcmd:
- sed -i 's/^\s*REGDOMAIN=\S*/REGDOMAIN=FR/' /etc/default/crda || true
- localectl set-x11-keymap "fr" pc105
`

const imagerNetworkConfig = `version: 2
wifis:
  renderer: networkd
  wlan0:
    dhcp4: true
    optional: true
    access-points:
      "Cafe Wifi":
        password: "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"
        hidden: true
`

func TestParseUserData(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantErr     bool
		wantCountry string
		check       func(t *testing.T, s Settings, ignored []string)
	}{
		{name: "imager", in: imagerUserData, wantCountry: "FR", check: func(t *testing.T, s Settings, ignored []string) {
			if s.Hostname != "pi-imager" || s.Timezone != "Europe/Paris" || len(s.Users) != 1 {
				t.Fatalf("got %+v", s)
			}
			u := s.Users[0]
			if u.Name != "alice" || u.LockPassword || u.PasswordHash != "$5$abc$0123456789abcdef" || !u.Sudo || len(u.AuthorizedKeys) != 1 || len(u.Groups) != 15 {
				t.Errorf("user %+v", u)
			}
			slices.Sort(ignored)
			if want := []string{"apt", "packages", "runcmd"}; !slices.Equal(ignored, want) {
				t.Errorf("ignored = %v, want %v", ignored, want)
			}
		}},
		{name: "lock by default", in: "#cloud-config\nusers:\n- default\n- name: bob\n  passwd: x\n", check: func(t *testing.T, s Settings, _ []string) {
			if len(s.Users) != 1 || !s.Users[0].LockPassword {
				t.Errorf("users %+v", s.Users)
			}
		}},
		{name: "ssh_pwauth string", in: "#cloud-config\nssh_pwauth: \"yes\"\n", check: func(t *testing.T, s Settings, _ []string) {
			if !s.SSHPasswordAuth {
				t.Error("ssh_pwauth not read")
			}
		}},
		{name: "not cloud-config", in: "#!/bin/sh\necho hi\n", wantErr: true},
		{name: "root user refused", in: "#cloud-config\nusers:\n- name: root\n", wantErr: true},
		{name: "bad yaml", in: "#cloud-config\nusers: [\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, country, ignored, err := ParseUserData([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if country != tt.wantCountry {
				t.Errorf("country = %q, want %q", country, tt.wantCountry)
			}
			if tt.check != nil {
				tt.check(t, s, ignored)
			}
		})
	}
}

func TestParseNetworkConfig(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantSSID string
		wantErr  bool
	}{
		{name: "imager", in: imagerNetworkConfig, wantSSID: "Cafe Wifi"},
		{name: "ethernet only", in: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"},
		{name: "version 1", in: "version: 1\nconfig: []\n", wantErr: true},
		{name: "bad psk", in: "version: 2\nwifis:\n  wlan0:\n    access-points:\n      n:\n        password: short\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseNetworkConfig([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			got := ""
			if w != nil {
				got = w.SSID
			}
			if got != tt.wantSSID {
				t.Errorf("ssid = %q, want %q", got, tt.wantSSID)
			}
		})
	}
}

func TestMergeTOMLWins(t *testing.T) {
	base := Settings{Hostname: "from-imager", Timezone: "Europe/Paris", RootAuthorizedKeys: []string{"a"}, WiFi: &WiFi{SSID: "x"}}
	over := Settings{Hostname: "from-toml", RootAuthorizedKeys: []string{"b"}}
	m := Merge(base, over)
	if m.Hostname != "from-toml" || m.Timezone != "Europe/Paris" || len(m.RootAuthorizedKeys) != 2 || m.WiFi == nil || m.WiFi.SSID != "x" {
		t.Errorf("merged %+v", m)
	}
}

func TestScrubTOML(t *testing.T) {
	out, err := ScrubTOML([]byte(sampleTOML), "applied")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cret-cluster", "hunter2-admin", "wifi-passphrase"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("secret %q survived:\n%s", secret, out)
		}
	}
	s, err := ParseTOML(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "pi-one" || s.WiFi == nil || s.WiFi.SSID != "HomeNet" {
		t.Errorf("non-secret settings lost: %+v", s)
	}
	if !strings.HasPrefix(string(out), "# applied\n") {
		t.Errorf("no note: %q", out[:20])
	}
	// A secret in a multi-line string cannot be scrubbed line by line.
	if _, err := ScrubTOML([]byte("cluster_secret = \"\"\"\nabc\"\"\"\n"), "x"); err == nil {
		t.Error("multi-line secret accepted")
	}
}

func FuzzParseTOML(f *testing.F) {
	f.Add([]byte(sampleTOML))
	f.Add([]byte("[wifi]\nssid = \"a\"\npsk = 'b'\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseTOML(b)
		if err != nil {
			return
		}
		out, err := ScrubTOML(b, "n")
		if err != nil {
			return
		}
		s2, err := ParseTOML(out)
		if err != nil {
			t.Fatalf("scrubbed output does not parse: %v", err)
		}
		if s2.ClusterSecret != "" || s2.AdminPassword != "" || (s2.WiFi != nil && s2.WiFi.PSK != "") {
			t.Fatalf("secret survived: %+v", s2)
		}
		if s2.Hostname != s.Hostname {
			t.Fatalf("hostname changed: %q -> %q", s.Hostname, s2.Hostname)
		}
	})
}

func FuzzParseUserData(f *testing.F) {
	f.Add([]byte(imagerUserData))
	f.Add([]byte("#cloud-config\nusers: [default]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _, _, err := ParseUserData(b)
		if err == nil {
			if err := s.validate(); err != nil {
				t.Fatalf("accepted invalid settings: %v", err)
			}
		}
	})
}

func FuzzParseNetworkConfig(f *testing.F) {
	f.Add([]byte(imagerNetworkConfig))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseNetworkConfig(b)
		if err == nil && w != nil {
			if err := w.validate(); err != nil {
				t.Fatalf("accepted invalid Wi-Fi: %v", err)
			}
		}
	})
}
