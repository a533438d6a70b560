package node

import "testing"

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
