package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBindJSON: the decoder never panics, refuses unknown fields and
// trailing data, and what it accepts is valid JSON that decodes the same
// way again.
func FuzzBindJSON(f *testing.F) {
	for _, s := range []string{
		`{"app":"a","script":"s","method":"GET","path":"/x"}`,
		`{"app":"a"} {}`, `{"app":"a","nope":1}`, `{"app":`, `[]`, `null`, `{"path":"\u0000"}`,
		`{"app":"a","app":"b"}`, `{"APP":"a"}`, ` {"dispatch":"sync"} `, `{"method":123}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in routeBody
		err := decodeJSON(body, &in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != "invalid_json" {
				t.Fatalf("decode error %v is not a 400 invalid_json", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var generic any
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Fatal(err)
		}
		if obj, ok := generic.(map[string]any); ok {
			for k := range obj {
				switch strings.ToLower(k) {
				case "app", "script", "method", "host", "path", "dispatch":
				default:
					t.Fatalf("accepted unknown field %q in %q", k, body)
				}
			}
		}
		again, _ := json.Marshal(in)
		var in2 routeBody
		if err := decodeJSON(again, &in2); err != nil || in2 != in {
			t.Fatalf("round trip of %q: %+v, %v", body, in2, err)
		}
	})
}

func fuzzTargets() []string {
	return []string{"POST /apps", "POST /scripts", "POST /routes", "POST /routes/check", "POST /routes/match",
		"POST /keys", "POST /users", "POST /auth/login", "PATCH /apps/default", "POST /apps/default/domains",
		"PUT /apps/default/secrets/FUZZ", "PUT /apps/default/kv/store/values/fuzz/key"}
}

// FuzzAdminAPIBodies sends arbitrary bodies to the write endpoints as the
// owner: whatever the body, the answer is never a 500, and every error is
// the envelope.
func FuzzAdminAPIBodies(f *testing.F) {
	for i, s := range []string{
		`{"slug":"x"}`, `{"app":"default","name":"n","source":"export default {}"}`,
		`{"app":"default","script":"hello","path":"/api/x"}`, `{"app":"default","script":"hello","path":"/:a/:b*"}`,
		`{"host":"localhost","path":"/"}`, `{"scopes":["instance:*"],"app":"default"}`,
		`{"username":"u","password":"p"}`, `{"slug":"UPPER"}`, `{"pattern":"{x.example.com"}`, `{}`, `{"value":"s"}`, "raw \x00\xff bytes",
		`{"log_retention":{"executions":1,"age":"1s"}}`, `{"log_retention":{"age":null,"lines":-1}}`, `{"limits":{"cpu_time_ms":1e99}}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	e := newAPIEnv(f)
	if err := e.m.Seed(f.Context()); err != nil {
		f.Fatal(err)
	}
	h, token := e.m.Handler(), e.login("owner")
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		ts := fuzzTargets()
		method, path, _ := strings.Cut(ts[int(target)%len(ts)], " ")
		req := httptest.NewRequest(method, APIPrefix+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" {
				t.Fatalf("%s %s: %d answer is not the envelope: %s", method, path, rec.Code, rec.Body)
			}
		}
	})
}
