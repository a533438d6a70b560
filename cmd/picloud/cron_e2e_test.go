package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCronEndToEnd deploys a script with a scheduled handler to a real
// `picloud dev`, sets an every-second trigger with the CLI, and sees its
// executions, console line included, arrive over the executions API.
func TestCronEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	base, node := startAliceNode(t, bin, "picloud-cron-e2e-")
	defer node.stop(t)

	c := newCLIEnv(t, bin)
	if out, errOut, code := c.run("s3cret-pass\n", nil, "login", base, "--username", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	src := filepath.Join(t.TempDir(), "ticker.js")
	if err := os.WriteFile(src, []byte(`export default {
  fetch() { return new Response("ok") },
  async scheduled(event, env, ctx) {
    console.log("tick " + event.cron);
    ctx.waitUntil(Promise.resolve().then(() => console.log("type " + event.type + " at " + (event.scheduledTime % 1000))));
  },
};
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must("deploy", src)

	// Refused input changes nothing and says which entry is wrong.
	c.fails(5, "crons[1].schedule", nil, "crons", "set", "ticker", "* * * * * *", "0 61 * * * *")
	c.fails(5, `unknown time zone "Mars/Olympus"`, nil, "crons", "set", "ticker", "--tz", "Mars/Olympus", "* * * * * *")
	if out := c.must("crons", "ls", "ticker"); !strings.Contains(out, "No cron triggers") {
		t.Fatalf("crons ls after refused sets:\n%s", out)
	}

	start := time.Now()
	if out := c.must("crons", "set", "ticker", "--tz", "Europe/Paris", "* * * * * *"); !strings.Contains(out, "* * * * * *") || !strings.Contains(out, "Europe/Paris") {
		t.Fatalf("crons set:\n%s", out)
	}
	if out := c.must("crons", "ls", "ticker"); !strings.Contains(out, "Europe/Paris") {
		t.Fatalf("crons ls:\n%s", out)
	}

	token := login(t, base, "alice", "s3cret-pass")
	type execution struct {
		Method, Path, Outcome string
		Status                int
		Logs                  []struct{ Level, Message string }
	}
	var got []execution
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/admin/executions?app=default&script=ticker&lines=true", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		body, status := do(t, req)
		var out struct{ Executions []execution }
		if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil {
			t.Fatalf("executions: %d %s %v", status, body, err)
		}
		got = out.Executions
		if len(got) >= 2 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(got) < 2 {
		t.Fatalf("%d scheduled executions within %v of setting the trigger, want at least 2: %+v", len(got), time.Since(start).Round(time.Millisecond), got)
	}
	for _, e := range got {
		var lines []string
		for _, l := range e.Logs {
			lines = append(lines, l.Message)
		}
		joined := strings.Join(lines, "\n")
		if e.Method != "SCHEDULED" || e.Path != "* * * * * *" || e.Outcome != "success" || e.Status != 0 ||
			!strings.Contains(joined, "tick * * * * * *") || !strings.Contains(joined, "type scheduled at 0") {
			t.Errorf("execution %+v (logs %q)", e, joined)
		}
	}

	// Clearing stops the ticks.
	if out := c.must("crons", "set", "ticker"); !strings.Contains(out, "no cron triggers") {
		t.Fatalf("crons set with no schedule:\n%s", out)
	}
}
