package edge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/picloud/picloud/runtime"
)

type nopExecutor struct{}

func (nopExecutor) Execute(context.Context, *runtime.ExecRequest, http.ResponseWriter) (runtime.ExecResult, error) {
	return runtime.ExecResult{}, nil
}

type emptyCatalog struct{}

func (emptyCatalog) Script(context.Context, string) (runtime.Script, error) {
	return runtime.Script{}, ErrScriptNotFound
}
func (emptyCatalog) Routing(context.Context) (Routing, error) { return Routing{}, nil }

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) })
}

func TestDashboardMount(t *testing.T) {
	tests := []struct {
		name, path string
		dashboard  bool // whether Config.Dashboard is set
		want       string
		status     int
	}{
		{name: "admin root", path: "/admin", dashboard: true, want: "dashboard", status: 200},
		{name: "admin slash", path: "/admin/", dashboard: true, want: "dashboard", status: 200},
		{name: "deep link", path: "/admin/apps/x", dashboard: true, want: "dashboard", status: 200},
		{name: "api stays api", path: "/api/v1/admin/auth/me", dashboard: true, want: "api", status: 200},
		{name: "similar prefix is not the dashboard", path: "/administrator", dashboard: true, status: 404},
		{name: "no dashboard configured", path: "/admin/", dashboard: false, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Bind: "127.0.0.1:0", Admin: named("api"), Executor: nopExecutor{}, Catalog: emptyCatalog{}}
			if tc.dashboard {
				cfg.Dashboard = named("dashboard")
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if tc.want != "" && w.Body.String() != tc.want {
				t.Errorf("served by %q, want %q", w.Body.String(), tc.want)
			}
		})
	}
}
