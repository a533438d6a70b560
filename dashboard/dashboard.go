// Package dashboard serves the admin dashboard: the SvelteKit single-page
// app built into dist/ (committed, so `go build` needs no Node) and embedded
// in the binary. It owns only static file serving under /admin/; the app
// itself talks to the public admin API. Only node imports it.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// Base is the path prefix the dashboard is served under; it must match
// paths.base in svelte.config.js.
const Base = "/admin"

//go:embed all:dist
var dist embed.FS

// file is one asset. Its gzip form is made on first request, not at
// start-up: compressing the editor bundle costs ~100 ms, more on a Pi.
type file struct {
	body     []byte
	ctype    string
	etag     string
	cache    string
	tryGzip  bool
	gzipOnce sync.Once
	gz       []byte // nil when compression does not pay
}

// gzipped returns the compressed body, or nil when it is not worth it.
func (f *file) gzipped() []byte {
	if !f.tryGzip {
		return nil
	}
	f.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		if buf.Len() < len(f.body)*9/10 {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

// handler serves the prepared files; it is immutable after construction.
type handler struct {
	files    map[string]*file // keyed by path relative to dist, e.g. "index.html"
	fallback *file
}

// Handler returns the dashboard as an http.Handler for requests whose path
// is Base or starts with Base+"/". Unknown paths that are not assets get
// index.html, so the client-side router handles deep links.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(fmt.Sprintf("dashboard: embedded dist missing: %v", err)) // a build defect, not a runtime condition
	}
	h, err := newHandler(sub)
	if err != nil {
		panic(fmt.Sprintf("dashboard: %v", err))
	}
	return h
}

func newHandler(root fs.FS) (*handler, error) {
	h := &handler{files: make(map[string]*file)}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		h.files[p] = prepare(p, body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded files: %w", err)
	}
	h.fallback = h.files["index.html"]
	if h.fallback == nil {
		return nil, fmt.Errorf("no index.html in the embedded build; run the dashboard build")
	}
	return h, nil
}

func prepare(p string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{
		body:  body,
		ctype: contentType(p),
		etag:  `"` + hex.EncodeToString(sum[:8]) + `"`,
		cache: "no-cache", // revalidate: index.html names the current hashed assets
	}
	// SvelteKit puts content-hashed files under _app/immutable/.
	if strings.HasPrefix(p, "_app/immutable/") {
		f.cache = "public, max-age=31536000, immutable"
	}
	f.tryGzip = compressible(f.ctype) && len(body) > 512
	return f
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") || strings.HasPrefix(ctype, "image/svg")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, Base)
	if !ok || (rel != "" && rel[0] != '/') {
		http.NotFound(w, r)
		return
	}
	if rel == "" {
		// Relative asset URLs in index.html need the trailing slash.
		target := Base + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	p := strings.TrimPrefix(path.Clean(rel), "/")
	f := h.files[p]
	if f == nil {
		// A missing build file is a 404 (an old hashed file after an
		// upgrade); anything else is a client-side route, dots included
		// (script names such as hello.js appear in paths).
		if strings.HasPrefix(p, "_app/") {
			http.NotFound(w, r)
			return
		}
		f = h.fallback
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("Cache-Control", f.cache)
	hd.Set("X-Content-Type-Options", "nosniff")
	if f.ctype == "text/html; charset=utf-8" {
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
	}
	body, etag := f.body, f.etag
	if gz := f.gzipped(); gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			// Each representation has its own strong ETag.
			hd.Set("Content-Encoding", "gzip")
			body, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		}
	}
	hd.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		hd.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (q=0 refuses it).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
