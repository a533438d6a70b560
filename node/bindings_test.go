package node

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/pgtest"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSecretBinding runs a deployed script whose env holds an app secret:
// real Postgres, manager, engine and this package's provider. Each app
// sees only its own secret of that name.
func TestSecretBinding(t *testing.T) {
	ctx := context.Background()
	binds := &bindings{}
	engine, err := runtime.New(runtime.Config{Bindings: binds})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := manager.Open(ctx, manager.Config{DatabaseURL: pgtest.DSN(t), Compiler: compiler{engine},
		SecretKey: bytes.Repeat([]byte{1}, manager.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	binds.mgr = mgr

	src := `export default { fetch(req, env) { return Response.json({ token: env.TOKEN }) } }`
	bindingsJSON := json.RawMessage(`{"TOKEN": {"type": "secret", "name": "API_TOKEN"}}`)
	cases := []struct {
		app, secret, want string
	}{
		{app: "alpha", secret: "alpha-token", want: `{"token":"alpha-token"}`},
		{app: "beta", want: `{"token":null}`},
	}
	for _, tc := range cases {
		t.Run(tc.app, func(t *testing.T) {
			if _, err := mgr.CreateApp(ctx, tc.app, tc.app); err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				if _, err := mgr.PutSecret(ctx, tc.app, "API_TOKEN", []byte(tc.secret)); err != nil {
					t.Fatal(err)
				}
			}
			d, err := mgr.Deploy(ctx, manager.DeployInput{App: tc.app, Name: "s", Source: src, Bindings: bindingsJSON})
			if err != nil {
				t.Fatal(err)
			}
			script, err := catalog{mgr: mgr, ceilings: limits.Ceilings}.Script(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			res, err := engine.Execute(ctx, &runtime.ExecRequest{Script: script, Method: "GET", URL: "http://x/"}, w)
			if err != nil {
				t.Fatalf("execute: %v %+v", err, res.Logs)
			}
			if w.Body.String() != tc.want {
				t.Fatalf("got %s, want %s", w.Body.String(), tc.want)
			}
		})
	}
}
