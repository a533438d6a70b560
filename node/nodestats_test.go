package node

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/edge"
	"github.com/picloud/picloud/internal/pgtest"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// TestNodeStatsReachTheAdminAPI wires a manager, a runtime and an edge as
// Run does and reads the edge's numbers back through GET /metrics.
func TestNodeStatsReachTheAdminAPI(t *testing.T) {
	ctx := context.Background()
	engine, err := runtime.New(runtime.Config{Bindings: &bindings{}})
	if err != nil {
		t.Fatal(err)
	}
	stats := &nodeStats{}
	if got := stats.NodeStats(); got.Gate.Capacity != 0 || got.Executions == nil {
		t.Errorf("before the edge exists: %+v", got)
	}
	mgr, err := manager.Open(ctx, manager.Config{DatabaseURL: pgtest.DSN(t), Compiler: compiler{engine}, NodeStats: stats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	if err := mgr.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := edge.New(edge.Config{Bind: "127.0.0.1:0", StorageDir: t.TempDir(), Admin: mgr.Handler(), Executor: engine,
		Catalog: catalog{mgr: mgr}, MaxConcurrent: 5, RuntimeStats: runtimeStats{engine}})
	if err != nil {
		t.Fatal(err)
	}
	stats.srv.Store(srv)

	if _, err := mgr.EnsureAdmin(ctx, "root", "pw-root-123", false); err != nil {
		t.Fatal(err)
	}
	s, err := mgr.Login(ctx, "root", "pw-root-123")
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(mgr.Handler())
	t.Cleanup(api.Close)
	req, _ := http.NewRequest(http.MethodGet, api.URL+manager.APIPrefix+"/metrics?app=default", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Node *manager.NodeStats `json:"node"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	n := out.Node
	if n == nil || n.Gate.Capacity != 5 || n.Gate.InUse != 0 || n.Database.Max < 1 {
		t.Fatalf("node stats %+v, want gate capacity 5 and the database pool", n)
	}
	for _, o := range []string{"success", "error", "timeout", "limit"} {
		if v, ok := n.Executions[o]; !ok || v != 0 {
			t.Errorf("executions[%s] = %d, %v; want a zero series", o, v, ok)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
}
