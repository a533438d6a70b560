package runtime

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIncomingRequest checks the request a handler gets is the one new
// Request would build from the incoming request, whether the engine
// builds it itself (the fast path) or falls back to the constructor
// (which then throws what it throws).
func TestIncomingRequest(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "incoming", `export default { async fetch(req) {
  const h = [...req.headers].map(([k, v]) => k + "=" + v).join(";");
  return new Response([req.method, req.url, h, await req.text(), req.headers.get("x-a")].join("|"));
} }`, "")
	cases := []struct {
		name, method, url, body string
		header                  http.Header
		want                    string
		wantErr                 string
	}{
		{name: "plain", method: "GET", url: "http://localhost/a?b=1", header: http.Header{"Accept": {"*/*"}},
			want: "GET|http://localhost/a?b=1|accept=*/*||"},
		{name: "url normalised", method: "GET", url: "HTTP://LOCALHOST:80/./a/../b", want: "GET|http://localhost/b|||"},
		{name: "values trimmed, names lower-cased, repeated names joined", method: "POST", url: "http://x/",
			header: http.Header{"X-A": {" 1 ", "\t2"}, "content-type": {"text/plain"}}, body: "hi",
			want: "POST|http://x/|content-type=text/plain;x-a=1, 2|hi|1, 2"},
		{name: "standard method upper-cased", method: "patch", url: "http://x/", body: "b", want: "PATCH|http://x/||b|"},
		{name: "other method kept", method: "Purge", url: "http://x/", want: "Purge|http://x/|||"},
		{name: "GET body dropped", method: "GET", url: "http://x/", body: "ignored", want: "GET|http://x/|||"},
		{name: "lower-case get with a body", method: "get", url: "http://x/", body: "b", wantErr: "GET/HEAD method cannot have body"},
		{name: "invalid header name", method: "GET", url: "http://x/", header: http.Header{"Bad Name": {"1"}}, wantErr: "Invalid header name"},
		{name: "invalid header value", method: "GET", url: "http://x/", header: http.Header{"X-A": {"a\nb"}}, wantErr: "Invalid header value"},
		{name: "forbidden method", method: "TRACE", url: "http://x/", wantErr: "Forbidden method"},
		{name: "invalid URL", method: "GET", url: "/relative", wantErr: "Invalid URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			req := &ExecRequest{Script: s, Method: tc.method, URL: tc.url, Header: tc.header, Body: []byte(tc.body)}
			res, err := e.Execute(context.Background(), req, w)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrScript) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v (logs %v), want %q", err, res.Logs, tc.wantErr)
				}
				return
			}
			if err != nil || w.Body.String() != tc.want {
				t.Fatalf("got %q, %v (logs %v); want %q", w.Body.String(), err, res.Logs, tc.want)
			}
		})
	}
}

// TestRequestBodyIsACopy checks a script that keeps and changes the
// request body's bytes does not change the caller's.
func TestRequestBodyIsACopy(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "copy", `export default { async fetch(req) {
  const r = req.body.getReader(); const { value } = await r.read(); value[0] = 120; return new Response("ok");
} }`, "")
	body := []byte("abc")
	req := &ExecRequest{Script: s, Method: "POST", URL: "http://x/", Body: body}
	if _, err := e.Execute(context.Background(), req, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	if string(body) != "abc" {
		t.Fatalf("the caller's body became %q", body)
	}
}
