package node

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestFromEnvHTTPAllowPrivate(t *testing.T) {
	cases := []struct {
		name, value string
		want        bool
		wantErr     bool
	}{
		{name: "unset", value: "", want: false},
		{name: "true", value: "true", want: true},
		{name: "one", value: "1", want: true},
		{name: "false", value: "false", want: false},
		{name: "garbage", value: "yes please", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Defaults(ModeDev).FromEnv(func(k string) string {
				if k == "PICLOUD_HTTP_ALLOW_PRIVATE" {
					return tc.value
				}
				return ""
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && c.HTTPAllowPrivate != tc.want {
				t.Fatalf("HTTPAllowPrivate = %v, want %v", c.HTTPAllowPrivate, tc.want)
			}
		})
	}
}

func TestSessionTTLFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   string
		want    int
		wantErr bool
	}{
		{"default", "", 24, false},
		{"set", "72", 72, false},
		{"zero", "0", 0, true},
		{"not a number", "1d", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PICLOUD_SESSION_TTL_HOURS": tc.value}
			c, err := Defaults(ModeDev).FromEnv(func(k string) string { return env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && c.SessionTTLHours != tc.want {
				t.Fatalf("SessionTTLHours = %d, want %d", c.SessionTTLHours, tc.want)
			}
		})
	}
}

func TestIdleRuntimesFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        int
		wantErr     bool
	}{
		{"default", "", 128, false},
		{"set", "16", 16, false},
		{"zero", "0", 0, true},
		{"not a number", "many", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PICLOUD_IDLE_RUNTIMES": tc.value}
			c, err := Defaults(ModeDev).FromEnv(func(k string) string { return env[k] })
			if err == nil {
				err = c.Validate()
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && c.IdleRuntimes != tc.want {
				t.Fatalf("IdleRuntimes = %d, want %d", c.IdleRuntimes, tc.want)
			}
		})
	}
}

// TestTLSFromEnv: HTTP only for dev, HTTPS on :443 (with :80 redirecting)
// for the agent, ACME off unless switched on, and what reaches the edge.
func TestTLSFromEnv(t *testing.T) {
	mdns := "localhost" // the host's <name>.local when it has a name
	if h, _ := os.Hostname(); h != "" {
		mdns = strings.ToLower(strings.TrimSuffix(h, ".local")) + ".local"
	}
	for _, tc := range []struct {
		name       string
		mode       Mode
		env        map[string]string
		wantErr    bool
		wantHTTPS  string // "" means HTTP only (tlsConfig nil)
		wantACME   bool
		wantNames  []string
		wantGate   int
		acmeFields [3]string // directory, email, CA root
	}{
		{name: "dev is HTTP only", mode: ModeDev, wantGate: 32},
		{name: "agent serves HTTPS on 443, ACME off", mode: ModeAgent, wantHTTPS: ":443", wantNames: []string{"localhost", mdns, "127.0.0.1"}, wantGate: 32},
		{name: "agent with HTTPS off", mode: ModeAgent, env: map[string]string{"PICLOUD_HTTPS_BIND": "off"}, wantGate: 32},
		{name: "dev with HTTPS and extra names", mode: ModeDev, env: map[string]string{"PICLOUD_HTTPS_BIND": "127.0.0.1:8443", "PICLOUD_TLS_NAMES": " Pi.Example.LAN ,x.lan"},
			wantHTTPS: "127.0.0.1:8443", wantNames: []string{"localhost", "pi.example.lan", "x.lan"}, wantGate: 32},
		{name: "acme on", mode: ModeAgent, env: map[string]string{"PICLOUD_ACME": "on", "PICLOUD_ACME_EMAIL": "ops@example.com",
			"PICLOUD_ACME_DIRECTORY": "https://acme.test/dir", "PICLOUD_ACME_CA_ROOT": "/etc/acme-ca.pem"},
			wantHTTPS: ":443", wantACME: true, acmeFields: [3]string{"https://acme.test/dir", "ops@example.com", "/etc/acme-ca.pem"}, wantGate: 32},
		{name: "acme without https", mode: ModeDev, env: map[string]string{"PICLOUD_ACME": "on"}, wantErr: true},
		{name: "acme garbage", mode: ModeAgent, env: map[string]string{"PICLOUD_ACME": "maybe"}, wantErr: true},
		{name: "gate size", mode: ModeDev, env: map[string]string{"PICLOUD_MAX_CONCURRENT_EXECUTIONS": "4"}, wantGate: 4},
		{name: "gate size zero", mode: ModeDev, env: map[string]string{"PICLOUD_MAX_CONCURRENT_EXECUTIONS": "0"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Defaults(tc.mode).FromEnv(func(k string) string { return tc.env[k] })
			if err == nil {
				err = c.Validate()
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if c.MaxConcurrent != tc.wantGate {
				t.Errorf("MaxConcurrent = %d, want %d", c.MaxConcurrent, tc.wantGate)
			}
			tls := c.tlsConfig()
			if tc.wantHTTPS == "" {
				if tls != nil {
					t.Fatalf("tlsConfig = %+v, want HTTP only", tls)
				}
				return
			}
			if tls == nil || tls.HTTPSBind != tc.wantHTTPS || tls.ACME.Enabled != tc.wantACME {
				t.Fatalf("tlsConfig = %+v, want HTTPS on %s, ACME %v", tls, tc.wantHTTPS, tc.wantACME)
			}
			if got := [3]string{tls.ACME.Directory, tls.ACME.Email, tls.ACME.CARootFile}; tc.wantACME && got != tc.acmeFields {
				t.Errorf("ACME = %v, want %v", got, tc.acmeFields)
			}
			for _, n := range tc.wantNames {
				if !slices.Contains(tls.LANNames, n) {
					t.Errorf("LAN names %v lack %q", tls.LANNames, n)
				}
			}
		})
	}
}

func TestDebugBindMustBeLoopback(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		wantErr     bool
	}{
		{"off", "", false},
		{"ipv4 loopback", "127.0.0.1:6060", false},
		{"ipv6 loopback", "[::1]:6060", false},
		{"localhost", "localhost:6060", false},
		{"every interface", ":6060", true},
		{"lan address", "192.168.1.10:6060", true},
		{"no port", "127.0.0.1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PICLOUD_DEBUG_BIND": tc.value}
			c, err := Defaults(ModeDev).FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
