package node

import "testing"

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
