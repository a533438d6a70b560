package dashboard

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

var (
	indexHTML = []byte("<!doctype html><title>PiCloud</title>" + strings.Repeat("<!-- pad -->", 100))
	appJS     = []byte("export const x = 1;\n" + strings.Repeat("console.log('padding padding');\n", 100))
)

func testHandler(t *testing.T) *handler {
	t.Helper()
	h, err := newHandler(fstest.MapFS{
		"index.html":                      {Data: indexHTML},
		"favicon.svg":                     {Data: []byte("<svg/>")},
		"_app/version.json":               {Data: []byte(`{"version":"x"}`)},
		"_app/immutable/entry/app.abc.js": {Data: appJS},
		"_app/immutable/assets/0.css":     {Data: []byte("body{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServe(t *testing.T) {
	h := testHandler(t)
	tests := []struct {
		name, method, path string
		status             int
		ctype, cache       string
		body               []byte
		location           string
	}{
		{name: "root redirects to slash", method: "GET", path: "/admin", status: 301, location: "/admin/"},
		{name: "index", method: "GET", path: "/admin/", status: 200, ctype: "text/html; charset=utf-8", cache: "no-cache", body: indexHTML},
		{name: "deep link falls back", method: "GET", path: "/admin/apps/default/scripts/hello.js", status: 200, ctype: "text/html; charset=utf-8", body: indexHTML},
		{name: "route without extension", method: "GET", path: "/admin/login", status: 200, body: indexHTML},
		{name: "hashed asset cached forever", method: "GET", path: "/admin/_app/immutable/entry/app.abc.js", status: 200, ctype: "text/javascript; charset=utf-8", cache: "public, max-age=31536000, immutable", body: appJS},
		{name: "css", method: "GET", path: "/admin/_app/immutable/assets/0.css", status: 200, ctype: "text/css; charset=utf-8"},
		{name: "svg", method: "GET", path: "/admin/favicon.svg", status: 200, ctype: "image/svg+xml", cache: "no-cache"},
		{name: "version json revalidates", method: "GET", path: "/admin/_app/version.json", status: 200, ctype: "application/json", cache: "no-cache"},
		{name: "missing asset is 404", method: "GET", path: "/admin/_app/immutable/entry/old.js", status: 404},
		{name: "dot segments stay inside", method: "GET", path: "/admin/../../etc/passwd", status: 200, body: indexHTML},
		{name: "dot segments into the build", method: "GET", path: "/admin/x/../_app/version.json", status: 200, ctype: "application/json"},
		{name: "other prefix", method: "GET", path: "/administrator", status: 404},
		{name: "post refused", method: "POST", path: "/admin/", status: 405},
		{name: "head has no body", method: "HEAD", path: "/admin/", status: 200, ctype: "text/html; charset=utf-8", body: []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(h, tc.method, tc.path, nil)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.ctype != "" && w.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("content-type %q, want %q", w.Header().Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && w.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("cache-control %q, want %q", w.Header().Get("Cache-Control"), tc.cache)
			}
			if tc.body != nil && !bytes.Equal(w.Body.Bytes(), tc.body) {
				t.Errorf("body %q, want %q", w.Body.String(), tc.body)
			}
			if tc.location != "" && w.Header().Get("Location") != tc.location {
				t.Errorf("location %q, want %q", w.Header().Get("Location"), tc.location)
			}
			if w.Code == 200 && w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff header")
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := testHandler(t)
	w := get(h, "GET", "/admin/_app/immutable/entry/app.abc.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", w.Header())
	}
	if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	if w.Body.Len() >= len(appJS) {
		t.Errorf("gzip body %d bytes, plain %d", w.Body.Len(), len(appJS))
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, appJS) {
		t.Error("gzip body does not decode to the file")
	}
	plain := get(h, "GET", "/admin/_app/immutable/entry/app.abc.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), appJS) {
		t.Error("gzip;q=0 still got gzip")
	}
	if plain.Header().Get("ETag") == w.Header().Get("ETag") {
		t.Error("gzip and plain representations share an ETag")
	}
	// Tiny files are not worth compressing.
	small := get(h, "GET", "/admin/favicon.svg", map[string]string{"Accept-Encoding": "gzip"})
	if small.Header().Get("Content-Encoding") != "" {
		t.Error("tiny file compressed")
	}
}

func TestConditional(t *testing.T) {
	h := testHandler(t)
	for _, enc := range []string{"", "gzip"} {
		w := get(h, "GET", "/admin/", map[string]string{"Accept-Encoding": enc})
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		w2 := get(h, "GET", "/admin/", map[string]string{"If-None-Match": etag, "Accept-Encoding": enc})
		if w2.Code != http.StatusNotModified || w2.Body.Len() != 0 {
			t.Errorf("encoding %q: status %d with %d bytes, want 304 and none", enc, w2.Code, w2.Body.Len())
		}
		w3 := get(h, "GET", "/admin/", map[string]string{"If-None-Match": `"other"`, "Accept-Encoding": enc})
		if w3.Code != http.StatusOK {
			t.Errorf("encoding %q: stale etag gave %d", enc, w3.Code)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"br, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"*", true},
		{"br", false},
		{"identity", false},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestNewHandlerNeedsIndex(t *testing.T) {
	if _, err := newHandler(fstest.MapFS{"a.js": {Data: []byte("x")}}); err == nil {
		t.Fatal("a build without index.html was accepted")
	}
}

// TestEmbeddedBuild checks the committed build: the real index.html loads
// its scripts from under Base, and every asset it names is embedded.
func TestEmbeddedBuild(t *testing.T) {
	h := Handler()
	w := get(h, "GET", "/admin/", nil)
	if w.Code != 200 {
		t.Fatalf("index: %d", w.Code)
	}
	html := w.Body.String()
	n := 0
	for _, part := range strings.Split(html, `"`)[1:] {
		if !strings.HasPrefix(part, Base+"/_app/") {
			continue
		}
		n++
		a := get(h, "GET", part, nil)
		if a.Code != 200 {
			t.Errorf("%s: status %d", part, a.Code)
		}
	}
	if n < 2 {
		t.Errorf("index.html names only %d assets under %s/_app/:\n%s", n, Base, html)
	}
}

func BenchmarkHandler(b *testing.B) {
	for b.Loop() {
		_ = Handler()
	}
}

// TestGzipConcurrent: the lazy compression is safe under concurrent first
// requests (run with -race).
func TestGzipConcurrent(t *testing.T) {
	h := testHandler(t)
	var wg sync.WaitGroup
	sizes := make([]int, 8)
	for i := range sizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sizes[i] = get(h, "GET", "/admin/_app/immutable/entry/app.abc.js", map[string]string{"Accept-Encoding": "gzip"}).Body.Len()
		}()
	}
	wg.Wait()
	for i, n := range sizes {
		if n != sizes[0] || n >= len(appJS) {
			t.Errorf("request %d got %d bytes (first %d, plain %d)", i, n, sizes[0], len(appJS))
		}
	}
}
