package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestSameBytesAsTheScripts checks rawgo against what bench/scripts answer
// (json-expected.json is json.js's answer to json-body.json under Node.js).
func TestSameBytesAsTheScripts(t *testing.T) {
	body, err := os.ReadFile("../scripts/json-body.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../scripts/json-expected.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, body, want string
		handler                        http.HandlerFunc
	}{
		{"hello", "GET", "/hello", "", `{"hello":"world","path":"/hello"}`, hello},
		{"json", "POST", "/json", string(body), string(want), jsonItems},
		{"json refuses garbage", "POST", "/json", "{", "", jsonItems},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.handler(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if tc.want == "" {
				if w.Code != http.StatusBadRequest {
					t.Errorf("status %d, want 400", w.Code)
				}
				return
			}
			if w.Code != 200 || w.Body.String() != tc.want {
				t.Errorf("got %d %s\nwant %s", w.Code, w.Body, tc.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content-type %q", ct)
			}
		})
	}
}
