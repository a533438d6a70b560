package edge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEmitCaddyLine(t *testing.T) {
	tests := []struct {
		name, line string
		level      string
		msg        string
		attr       string // a key that must be carried over
	}{
		{"info with fields", `{"level":"info","ts":1.5,"logger":"http","msg":"server running","name":"picloud"}`, "INFO", "server running", "logger"},
		{"debug", `{"level":"debug","msg":"d"}`, "DEBUG", "d", ""},
		{"warn", `{"level":"warn","msg":"w","err":"x"}`, "WARN", "w", "err"},
		{"error", `{"level":"error","msg":"e"}`, "ERROR", "e", ""},
		{"fatal is an error", `{"level":"fatal","msg":"f"}`, "ERROR", "f", ""},
		{"not json", `plain text`, "INFO", "plain text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			emitCaddyLine(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), []byte(tt.line))
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%q: %v", buf.String(), err)
			}
			if rec["level"] != tt.level || rec["msg"] != tt.msg {
				t.Errorf("level %v msg %v, want %s %q", rec["level"], rec["msg"], tt.level, tt.msg)
			}
			if _, ok := rec["ts"]; ok {
				t.Error("caddy's ts was copied next to slog's time")
			}
			if tt.attr != "" && rec[tt.attr] == nil {
				t.Errorf("field %s lost: %v", tt.attr, rec)
			}
		})
	}
}

// Caddy's own log lines reach the server's slog handler, tagged.
func TestCaddyLogsReachSlog(t *testing.T) {
	f := newFixture(t, nil)
	waitFor(t, 5*time.Second, func() bool {
		for _, l := range strings.Split(f.logs.String(), "\n") {
			if strings.Contains(l, `"component":"caddy"`) && strings.Contains(l, `"logger":`) {
				return true
			}
		}
		return false
	})
}
