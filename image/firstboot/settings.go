// Package firstboot owns what a PiCloud SD card does once, at its first boot:
// it reads the settings a person left on the FAT boot partition (picloud.toml,
// and cloud-init NoCloud user-data/network-config as Raspberry Pi Imager
// writes them), applies them to the root filesystem, moves the secrets into
// the agent's state directory and scrubs them from the boot partition.
//
// Only image/cmd/picloud-firstboot imports it; it imports nothing of PiCloud.
package firstboot

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/pelletier/go-toml/v2"
)

// ErrInvalid marks settings that were read but cannot be applied safely.
var ErrInvalid = errors.New("invalid settings")

// Settings is the merged view of everything a person configured before first boot.
type Settings struct {
	Hostname      string
	ClusterName   string
	ClusterSecret string
	Timezone      string

	AdminUser     string
	AdminPassword string

	// RootAuthorizedKeys are installed for root (key-only login).
	RootAuthorizedKeys []string
	SSHPasswordAuth    bool

	Users []User
	WiFi  *WiFi
}

// User is an interactive login account, as Imager's cloud-init users: entry makes it.
type User struct {
	Name           string
	Groups         []string
	Shell          string
	PasswordHash   string // crypt(3) hash; never a clear-text password
	LockPassword   bool
	AuthorizedKeys []string
	Sudo           bool
}

// WiFi is one wireless network to join on wlan0.
type WiFi struct {
	SSID    string
	PSK     string // passphrase (8..63 chars) or 64 hex digits; empty for an open network
	Country string
	Hidden  bool
}

// tomlFile mirrors picloud.toml.
type tomlFile struct {
	Hostname      string `toml:"hostname"`
	ClusterName   string `toml:"cluster_name"`
	ClusterSecret string `toml:"cluster_secret"`
	Timezone      string `toml:"timezone"`
	Admin         struct {
		User     string `toml:"user"`
		Password string `toml:"password"`
	} `toml:"admin"`
	SSH struct {
		AuthorizedKeys         []string `toml:"authorized_keys"`
		PasswordAuthentication bool     `toml:"password_authentication"`
	} `toml:"ssh"`
	WiFi struct {
		SSID    string `toml:"ssid"`
		PSK     string `toml:"psk"`
		Country string `toml:"country"`
		Hidden  bool   `toml:"hidden"`
	} `toml:"wifi"`
}

// ParseTOML reads picloud.toml. Unknown keys are an error so that a typo
// does not silently leave a node unconfigured.
func ParseTOML(b []byte) (Settings, error) {
	var f tomlFile
	dec := toml.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Settings{}, fmt.Errorf("parsing picloud.toml: %w", err)
	}
	s := Settings{
		Hostname:           strings.TrimSpace(f.Hostname),
		ClusterName:        strings.TrimSpace(f.ClusterName),
		ClusterSecret:      f.ClusterSecret,
		Timezone:           strings.TrimSpace(f.Timezone),
		AdminUser:          strings.TrimSpace(f.Admin.User),
		AdminPassword:      f.Admin.Password,
		RootAuthorizedKeys: cleanKeys(f.SSH.AuthorizedKeys),
		SSHPasswordAuth:    f.SSH.PasswordAuthentication,
	}
	if f.WiFi.SSID != "" {
		s.WiFi = &WiFi{SSID: f.WiFi.SSID, PSK: f.WiFi.PSK, Country: strings.ToUpper(strings.TrimSpace(f.WiFi.Country)), Hidden: f.WiFi.Hidden}
	}
	return s, s.validate()
}

// userData is the subset of #cloud-config that Raspberry Pi Imager writes.
type userData struct {
	Hostname          string   `yaml:"hostname"`
	Timezone          string   `yaml:"timezone"`
	SSHPwauth         any      `yaml:"ssh_pwauth"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys"`
	Users             []any    `yaml:"users"`
	Runcmd            []any    `yaml:"runcmd"`
}

// appliedUserDataKeys are the user-data keys PiCloud applies (or, for
// manage_etc_hosts, does anyway); any other key is reported as ignored.
var appliedUserDataKeys = map[string]bool{
	"hostname": true, "timezone": true, "ssh_pwauth": true, "ssh_authorized_keys": true,
	"users": true, "manage_etc_hosts": true, "runcmd": true,
}

type userEntry struct {
	Name              string   `yaml:"name"`
	Groups            any      `yaml:"groups"`
	Shell             string   `yaml:"shell"`
	LockPasswd        *bool    `yaml:"lock_passwd"`
	Passwd            string   `yaml:"passwd"`
	HashedPasswd      string   `yaml:"hashed_passwd"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys"`
	Sudo              any      `yaml:"sudo"`
}

var regdomainRE = regexp.MustCompile(`REGDOMAIN=([A-Za-z]{2})\b`)

// ParseUserData reads a cloud-init NoCloud user-data file (#cloud-config).
// Keys PiCloud does not apply (packages, runcmd, write_files, ...) are
// returned in ignored so the caller can log them; runcmd is never executed.
func ParseUserData(b []byte) (s Settings, country string, ignored []string, err error) {
	text := string(b)
	if !strings.HasPrefix(strings.TrimLeft(text, "\ufeff \t\r\n"), "#cloud-config") {
		return Settings{}, "", nil, fmt.Errorf("%w: user-data is not #cloud-config", ErrInvalid)
	}
	var u userData
	if err := yaml.Unmarshal(b, &u); err != nil {
		return Settings{}, "", nil, fmt.Errorf("parsing user-data: %w", err)
	}
	s.Hostname = strings.TrimSpace(u.Hostname)
	s.Timezone = strings.TrimSpace(u.Timezone)
	s.SSHPasswordAuth = truthy(u.SSHPwauth)
	s.RootAuthorizedKeys = cleanKeys(u.SSHAuthorizedKeys)
	for _, raw := range u.Users {
		if name, ok := raw.(string); ok {
			if name != "default" {
				ignored = append(ignored, "users: "+name)
			}
			continue
		}
		enc, err := yaml.Marshal(raw)
		if err != nil {
			return Settings{}, "", nil, fmt.Errorf("parsing user-data users: %w", err)
		}
		var e userEntry
		if err := yaml.Unmarshal(enc, &e); err != nil {
			return Settings{}, "", nil, fmt.Errorf("parsing user-data users: %w", err)
		}
		usr := User{
			Name:           strings.TrimSpace(e.Name),
			Groups:         splitList(e.Groups),
			Shell:          e.Shell,
			PasswordHash:   firstNonEmpty(e.HashedPasswd, e.Passwd),
			LockPassword:   e.LockPasswd == nil || *e.LockPasswd, // cloud-init locks by default
			AuthorizedKeys: cleanKeys(e.SSHAuthorizedKeys),
			Sudo:           e.Sudo != nil && e.Sudo != false && e.Sudo != "False" && e.Sudo != "false",
		}
		s.Users = append(s.Users, usr)
	}
	for _, c := range u.Runcmd {
		if m := regdomainRE.FindStringSubmatch(fmt.Sprint(c)); m != nil {
			country = strings.ToUpper(m[1])
		}
	}
	var all map[string]any
	if err := yaml.Unmarshal(b, &all); err == nil {
		for k := range all {
			if !appliedUserDataKeys[k] {
				ignored = append(ignored, k)
			}
		}
	}
	if len(u.Runcmd) > 0 {
		ignored = append(ignored, "runcmd")
	}
	return s, country, ignored, s.validate()
}

type networkConfig struct {
	Version int            `yaml:"version"`
	WiFis   map[string]any `yaml:"wifis"`
}

type wifiIface struct {
	RegulatoryDomain string `yaml:"regulatory-domain"`
	AccessPoints     map[string]struct {
		Password string `yaml:"password"`
		Hidden   bool   `yaml:"hidden"`
	} `yaml:"access-points"`
}

// ParseNetworkConfig reads a NoCloud network-config (netplan version 2) and
// returns the first Wi-Fi access point, or nil when it configures none.
func ParseNetworkConfig(b []byte) (*WiFi, error) {
	var n networkConfig
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("parsing network-config: %w", err)
	}
	if n.Version != 0 && n.Version != 2 {
		return nil, fmt.Errorf("%w: network-config version %d (want 2)", ErrInvalid, n.Version)
	}
	names := make([]string, 0, len(n.WiFis))
	for name := range n.WiFis {
		names = append(names, name)
	}
	// Imager writes wlan0; prefer it, then any other interface name.
	for _, name := range append([]string{"wlan0"}, names...) {
		raw, ok := n.WiFis[name]
		if !ok || name == "renderer" {
			continue
		}
		enc, err := yaml.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("parsing network-config wifis.%s: %w", name, err)
		}
		var w wifiIface
		if err := yaml.Unmarshal(enc, &w); err != nil {
			return nil, fmt.Errorf("parsing network-config wifis.%s: %w", name, err)
		}
		for ssid, ap := range w.AccessPoints {
			wf := &WiFi{SSID: ssid, PSK: ap.Password, Hidden: ap.Hidden, Country: strings.ToUpper(w.RegulatoryDomain)}
			if err := wf.validate(); err != nil {
				return nil, err
			}
			return wf, nil
		}
	}
	return nil, nil
}

// Merge layers over on top of base: a non-empty field in over wins. Imager's
// cloud-init files are applied first and picloud.toml, PiCloud's own file,
// overrides them.
func Merge(base, over Settings) Settings {
	out := base
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&out.Hostname, over.Hostname)
	set(&out.ClusterName, over.ClusterName)
	set(&out.ClusterSecret, over.ClusterSecret)
	set(&out.Timezone, over.Timezone)
	set(&out.AdminUser, over.AdminUser)
	set(&out.AdminPassword, over.AdminPassword)
	out.RootAuthorizedKeys = append(append([]string(nil), base.RootAuthorizedKeys...), over.RootAuthorizedKeys...)
	out.SSHPasswordAuth = base.SSHPasswordAuth || over.SSHPasswordAuth
	out.Users = append(append([]User(nil), base.Users...), over.Users...)
	if over.WiFi != nil {
		out.WiFi = over.WiFi
	}
	return out
}

var (
	hostnameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	userRE     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	tzRE       = regexp.MustCompile(`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`)
	hexPSKRE   = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

func (s Settings) validate() error {
	if s.Hostname != "" && !hostnameRE.MatchString(s.Hostname) {
		return fmt.Errorf("%w: hostname %q: use a-z, 0-9 and '-', at most 63 characters", ErrInvalid, s.Hostname)
	}
	if s.AdminUser != "" && !userRE.MatchString(s.AdminUser) {
		return fmt.Errorf("%w: admin user %q", ErrInvalid, s.AdminUser)
	}
	if s.Timezone != "" && !tzRE.MatchString(s.Timezone) {
		return fmt.Errorf("%w: timezone %q", ErrInvalid, s.Timezone)
	}
	for _, v := range []string{s.ClusterName, s.ClusterSecret, s.AdminPassword} {
		if strings.ContainsAny(v, "\n\r\x00") {
			return fmt.Errorf("%w: a value contains a line break or NUL", ErrInvalid)
		}
	}
	for _, k := range s.RootAuthorizedKeys {
		if err := validKey(k); err != nil {
			return err
		}
	}
	for _, u := range s.Users {
		if !userRE.MatchString(u.Name) || u.Name == "root" || u.Name == "picloud" {
			return fmt.Errorf("%w: user name %q", ErrInvalid, u.Name)
		}
		if strings.ContainsAny(u.PasswordHash, ":\n\r\x00") {
			return fmt.Errorf("%w: password hash of %q", ErrInvalid, u.Name)
		}
		if u.Shell != "" && !strings.HasPrefix(u.Shell, "/") {
			return fmt.Errorf("%w: shell %q", ErrInvalid, u.Shell)
		}
		for _, k := range u.AuthorizedKeys {
			if err := validKey(k); err != nil {
				return err
			}
		}
	}
	if s.WiFi != nil {
		return s.WiFi.validate()
	}
	return nil
}

func (w *WiFi) validate() error {
	if w.SSID == "" || len(w.SSID) > 32 || strings.ContainsAny(w.SSID, "\"\n\r\x00") {
		return fmt.Errorf("%w: Wi-Fi SSID %q", ErrInvalid, w.SSID)
	}
	if w.PSK != "" && !hexPSKRE.MatchString(w.PSK) && (len(w.PSK) < 8 || len(w.PSK) > 63 || strings.ContainsAny(w.PSK, "\"\n\r\x00")) {
		return fmt.Errorf("%w: Wi-Fi passphrase for %q must be 8..63 characters or 64 hex digits", ErrInvalid, w.SSID)
	}
	if w.Country != "" && !countryRE.MatchString(w.Country) {
		return fmt.Errorf("%w: Wi-Fi country %q (two letters, e.g. GB)", ErrInvalid, w.Country)
	}
	return nil
}

func validKey(k string) error {
	f := strings.Fields(k)
	if len(f) < 2 || strings.ContainsAny(k, "\n\r\x00") || !(strings.HasPrefix(f[0], "ssh-") || strings.HasPrefix(f[0], "ecdsa-") || strings.HasPrefix(f[0], "sk-")) {
		return fmt.Errorf("%w: not an SSH public key: %.40q", ErrInvalid, k)
	}
	return nil
}

func cleanKeys(in []string) []string {
	var out []string
	for _, k := range in {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// splitList accepts cloud-init's "a,b,c" or [a, b, c].
func splitList(v any) []string {
	var parts []string
	switch t := v.(type) {
	case string:
		parts = strings.Split(t, ",")
	case []any:
		for _, p := range t {
			parts = append(parts, fmt.Sprint(p))
		}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch strings.ToLower(t) {
		case "true", "yes", "on", "1":
			return true
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
