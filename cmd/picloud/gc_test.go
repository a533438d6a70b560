package main

import "testing"

func TestGCSettings(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         map[string]string
		mem         int64
		wantPercent int
		wantLimit   int64
	}{
		{"defaults on a 1 GB Pi", nil, 1 << 30, nodeGCPercent, 512 << 20},
		{"memory unknown", nil, 0, nodeGCPercent, -1},
		{"GOGC set", map[string]string{"GOGC": "100"}, 1 << 30, -1, 512 << 20},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "300MiB"}, 1 << 30, nodeGCPercent, -1},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 8 << 30, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, l := gcSettings(func(k string) string { return tc.env[k] }, tc.mem)
			if p != tc.wantPercent || l != tc.wantLimit {
				t.Fatalf("gcSettings = (%d, %d), want (%d, %d)", p, l, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       int64
	}{
		{"proc meminfo", "MemTotal:        3884436 kB\nMemFree:          123456 kB\n", 3884436 << 10},
		{"missing", "MemFree:          123456 kB\n", 0},
		{"garbled", "MemTotal: lots kB\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseMemTotal([]byte(tc.text)); got != tc.want {
				t.Fatalf("parseMemTotal = %d, want %d", got, tc.want)
			}
		})
	}
}
