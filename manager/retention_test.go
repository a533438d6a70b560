package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

func (f *logFixture) patch(t *testing.T, path string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPatch, f.srv.URL+APIPrefix+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("PATCH %s: %d %s: %v", path, resp.StatusCode, rb, err)
		}
	}
	return resp.StatusCode
}

// TestAppLogRetention: an app may keep fewer executions, fewer lines and a
// shorter age than the node; never more; other apps keep the node's bounds.
func TestAppLogRetention(t *testing.T) {
	f := newLogFixture(t, LogConfig{RetainExecutions: 5, RetainLines: 6, RetainAge: time.Hour, PurgeInterval: time.Hour})
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"executions above the node", map[string]any{"executions": 6}, 422, "invalid_retention"},
		{"lines zero", map[string]any{"lines": 0}, 422, "invalid_retention"},
		{"lines not a number", map[string]any{"lines": "many"}, 422, "invalid_retention"},
		{"age above the node", map[string]any{"age": "2h"}, 422, "invalid_retention"},
		{"age under a second", map[string]any{"age": "1ms"}, 422, "invalid_retention"},
		{"age not a duration", map[string]any{"age": 30}, 422, "invalid_retention"},
		{"unknown field", map[string]any{"days": 3}, 400, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var eb errBody
			if st := f.patch(t, "/apps/shop", map[string]any{"log_retention": tc.body}, &eb); st != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("%d %+v, want %d %s", st, eb, tc.status, tc.code)
			}
		})
	}
	var a App
	if st := f.patch(t, "/apps/shop", map[string]any{"log_retention": map[string]any{"executions": 2, "lines": 3, "age": "30m"}}, &a); st != 200 ||
		a.LogRetention.Executions == nil || *a.LogRetention.Executions != 2 || *a.LogRetention.Lines != 3 || *a.LogRetention.Age != "30m" {
		t.Fatalf("set retention: %d %+v", st, a.LogRetention)
	}

	quiet, err := f.m.CreateApp(ctx, "quiet", "")
	if err != nil {
		t.Fatal(err)
	}
	qd, err := f.m.Deploy(ctx, DeployInput{App: "quiet", Name: "q", Source: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// Each app: one execution 45 minutes old (inside the node's hour,
	// outside shop's 30 minutes), then four new ones of two lines each.
	for _, app := range []struct{ id, script string }{{f.shop.ID, f.a.ID}, {quiet.ID, qd.ID}} {
		f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: newTestID(), AppID: app.id, ScriptID: app.script, Outcome: "success",
			Finished: time.Now().Add(-45 * time.Minute), Lines: []ConsoleLine{line("info", "old")}})
		for i := range 4 {
			f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: newTestID(), AppID: app.id, ScriptID: app.script, Outcome: "success",
				Lines: []ConsoleLine{line("info", "x"), line("info", string(rune('a'+i)))}})
		}
	}
	f.waitWritten(t, 10)
	f.m.PurgeExecutionLogs(ctx)

	counts := func(appID string) (execs, lines int) {
		if err := f.m.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM executions WHERE app_id = $1), (SELECT count(*) FROM execution_logs WHERE app_id = $1)`,
			appID).Scan(&execs, &lines); err != nil {
			t.Fatal(err)
		}
		return
	}
	if e, l := counts(f.shop.ID); e != 2 || l != 3 {
		t.Errorf("shop kept %d executions and %d lines, want its own bounds 2 and 3", e, l)
	}
	if e, l := counts(quiet.ID); e != 5 || l != 6 {
		t.Errorf("quiet kept %d executions and %d lines, want the node's bounds 5 and 6", e, l)
	}

	// Age alone: with only the age bound left, the 45-minute-old execution
	// of a fresh record goes, the new ones stay.
	if st := f.patch(t, "/apps/shop", map[string]any{"log_retention": map[string]any{"executions": nil, "lines": nil}}, &a); st != 200 ||
		a.LogRetention.Executions != nil || a.LogRetention.Lines != nil || a.LogRetention.Age == nil || *a.LogRetention.Age != "30m" {
		t.Fatalf("reset counts: %d %+v", st, a.LogRetention)
	}
	f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: "aged", AppID: f.shop.ID, ScriptID: f.a.ID, Outcome: "success",
		Finished: time.Now().Add(-40 * time.Minute)})
	f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: "fresh", AppID: f.shop.ID, ScriptID: f.a.ID, Outcome: "success"})
	f.waitWritten(t, 12)
	f.m.PurgeExecutionLogs(ctx)
	var ids []string
	rows, _ := f.m.pool.Query(ctx, `SELECT execution_id FROM executions WHERE app_id = $1`, f.shop.ID)
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 3 || !slices.Contains(ids, "fresh") || slices.Contains(ids, "aged") {
		t.Fatalf("shop after the age purge: %v, want the 2 kept and fresh", ids)
	}
	var got App
	if st := f.get(t, "/apps/shop", &got); st != 200 || got.LogRetention.Age == nil || *got.LogRetention.Age != "30m" || got.LogRetention.Executions != nil {
		t.Fatalf("GET app: %d %+v", st, got.LogRetention)
	}
	if st := f.get(t, "/apps/quiet", &got); st != 200 || got.LogRetention.Age != nil {
		t.Fatalf("GET quiet: %d %+v", st, got.LogRetention)
	}
}
