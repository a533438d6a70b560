package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/caddypki" // the PiCloud CA
	"github.com/caddyserver/caddy/v2/modules/caddytls"
	_ "github.com/caddyserver/caddy/v2/modules/filestorage" // certificate storage
	_ "github.com/caddyserver/caddy/v2/modules/logging"     // the json log encoder
)

func init() {
	caddy.RegisterModule(handlerModule{})
	caddy.RegisterModule(logWriter{})
	caddy.RegisterModule(permissionModule{})
}

// servers maps a config's instance key to the live Server that Caddy's
// module must reach. Caddy builds modules from JSON, so Go values cannot be
// passed in the config; this registry is the one process-wide table that
// bridges the two, as Caddy itself is a process singleton.
var servers sync.Map // string → *Server

// handlerModule is the dispatcher as a Caddy HTTP handler.
type handlerModule struct {
	Instance string `json:"instance"`
	srv      *Server
}

// CaddyModule returns the Caddy module information.
func (handlerModule) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.picloud",
		New: func() caddy.Module { return new(handlerModule) },
	}
}

// Provision finds the Server this config was generated for.
func (h *handlerModule) Provision(caddy.Context) error {
	v, ok := servers.Load(h.Instance)
	if !ok {
		return fmt.Errorf("no picloud server registered as %q", h.Instance)
	}
	h.srv = v.(*Server)
	return nil
}

func (h *handlerModule) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	h.srv.ServeHTTP(w, r)
	return nil
}

// logWriter hands Caddy's JSON log lines to the server's slog logger.
type logWriter struct {
	Instance string `json:"instance"`
}

// CaddyModule returns the Caddy module information.
func (logWriter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.writers.picloud",
		New: func() caddy.Module { return new(logWriter) },
	}
}

func (w logWriter) String() string    { return "picloud slog bridge" }
func (w logWriter) WriterKey() string { return "picloud:" + w.Instance }

// OpenWriter returns a writer that turns each JSON line into a slog record.
func (w logWriter) OpenWriter() (io.WriteCloser, error) {
	v, ok := servers.Load(w.Instance)
	if !ok {
		return nil, fmt.Errorf("no picloud server registered as %q", w.Instance)
	}
	pr, pw := io.Pipe()
	log := v.(*Server).cfg.Logger.With("component", "caddy")
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			emitCaddyLine(log, sc.Bytes())
		}
		_ = pr.Close()
	}()
	return pw, nil
}

func emitCaddyLine(log *slog.Logger, line []byte) {
	var fields map[string]any
	if err := json.Unmarshal(line, &fields); err != nil {
		log.Info(string(line))
		return
	}
	level := slog.LevelInfo
	switch fields["level"] {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error", "panic", "fatal":
		level = slog.LevelError
	}
	msg, _ := fields["msg"].(string)
	attrs := make([]slog.Attr, 0, len(fields))
	for k, v := range fields {
		switch k {
		case "level", "ts", "msg":
			continue
		}
		attrs = append(attrs, slog.Any(k, v))
	}
	log.LogAttrs(context.Background(), level, msg, attrs...)
}

// configParams is everything a Caddy config is generated from.
type configParams struct {
	instance  string
	httpBind  string
	storage   map[string]any // Caddy storage module config
	grace     time.Duration
	bodyRead  time.Duration
	tls       *TLSConfig
	acmeNames []string // public app domains, when ACME is on
}

// caddyConfig builds the JSON config for one server. The admin endpoint is
// off and the config is never persisted. Without TLS one HTTP server
// serves everything; with TLS the HTTPS server serves everything and the
// HTTP server redirects to it (except /healthz and ACME challenges).
func caddyConfig(p configParams) ([]byte, error) {
	handler := map[string]any{"handler": "picloud", "instance": p.instance}
	timeouts := func(m map[string]any) map[string]any {
		m["read_header_timeout"] = caddy.Duration(10 * time.Second)
		m["read_timeout"] = caddy.Duration(p.bodyRead)
		m["automatic_https"] = map[string]any{"disable": true}
		return m
	}
	servers := map[string]any{}
	apps := map[string]any{}
	if p.tls == nil {
		servers["picloud"] = timeouts(map[string]any{
			"listen": []string{p.httpBind},
			"routes": []any{map[string]any{"handle": []any{handler}}},
		})
	} else {
		_, port, err := net.SplitHostPort(p.tls.HTTPSBind)
		if err != nil {
			return nil, fmt.Errorf("https bind %q: %w", p.tls.HTTPSBind, err)
		}
		suffix := ""
		if port != "443" {
			suffix = ":" + port
		}
		servers["picloud"] = timeouts(map[string]any{
			"listen":                  []string{p.tls.HTTPSBind},
			"routes":                  []any{map[string]any{"handle": []any{handler}}},
			"tls_connection_policies": []any{map[string]any{}},
		})
		servers["redirect"] = timeouts(map[string]any{
			"listen": []string{p.httpBind},
			"routes": []any{
				// Health checks, and the root a client needs before it can
				// verify anything over HTTPS.
				map[string]any{"match": []any{map[string]any{"path": []string{"/healthz", "/admin/ca.crt"}}}, "handle": []any{handler}, "terminal": true},
				map[string]any{"handle": []any{map[string]any{
					"handler":     "static_response",
					"status_code": http.StatusPermanentRedirect,
					"headers":     map[string]any{"Location": []string{"https://{http.request.host}" + suffix + "{http.request.uri}"}},
				}}},
			},
		})
		apps["tls"] = tlsApp(p)
		apps["pki"] = map[string]any{"certificate_authorities": map[string]any{caID: map[string]any{
			"name":                     "PiCloud",
			"root_common_name":         "PiCloud Root CA",
			"intermediate_common_name": "PiCloud Intermediate CA",
			"install_trust":            false,
		}}}
	}
	apps["http"] = map[string]any{"grace_period": caddy.Duration(p.grace), "servers": servers}
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"storage": p.storage,
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{
			"writer":  map[string]any{"output": "picloud", "instance": p.instance},
			"encoder": map[string]any{"format": "json"},
			"level":   "INFO",
		}}},
		"apps": apps,
	}
	return json.Marshal(cfg)
}

// caID names the PiCloud CA in Caddy's pki app and in storage
// (pki/authorities/local/...). It is Caddy's default CA, renamed, so Caddy
// does not create a second root of its own.
const caID = "local"

// tlsApp is the certificate automation: LAN names and claimed hosts from
// the PiCloud CA, public app domains from ACME when it is on. Everything is
// issued on demand, at a name's first handshake (after the permission
// module agreed), and then kept and renewed in storage.
func tlsApp(p configParams) map[string]any {
	internal := map[string]any{"module": "internal", "ca": caID}
	var policies []any
	if len(p.tls.LANNames) > 0 {
		policies = append(policies, map[string]any{"subjects": p.tls.LANNames, "issuers": []any{internal}, "on_demand": true})
	}
	if p.tls.ACME.Enabled && len(p.acmeNames) > 0 {
		acme := map[string]any{"module": "acme"}
		if p.tls.ACME.Directory != "" {
			acme["ca"] = p.tls.ACME.Directory
		}
		if p.tls.ACME.Email != "" {
			acme["email"] = p.tls.ACME.Email
		}
		if p.tls.ACME.CARootFile != "" {
			acme["trusted_roots_pem_files"] = []string{p.tls.ACME.CARootFile}
		}
		policies = append(policies, map[string]any{"subjects": p.acmeNames, "issuers": []any{acme}, "on_demand": true})
	}
	policies = append(policies, map[string]any{"issuers": []any{internal}, "on_demand": true})
	app := map[string]any{"automation": map[string]any{
		"policies":  policies,
		"on_demand": map[string]any{"permission": map[string]any{"module": "picloud", "instance": p.instance}},
	}}
	if len(p.tls.LANNames) > 0 {
		app["certificates"] = map[string]any{"automate": p.tls.LANNames}
	}
	return app
}

// permissionModule allows on-demand certificates only for hosts some app
// claims and for the node's LAN names, so a stranger's SNI cannot make the
// node issue certificates.
type permissionModule struct {
	Instance string `json:"instance"`
	srv      *Server
}

// CaddyModule returns the Caddy module information.
func (permissionModule) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "tls.permission.picloud",
		New: func() caddy.Module { return new(permissionModule) },
	}
}

// Provision finds the Server this config was generated for.
func (m *permissionModule) Provision(caddy.Context) error {
	v, ok := servers.Load(m.Instance)
	if !ok {
		return fmt.Errorf("no picloud server registered as %q", m.Instance)
	}
	m.srv = v.(*Server)
	return nil
}

// CertificateAllowed implements caddytls.OnDemandPermission.
func (m *permissionModule) CertificateAllowed(ctx context.Context, name string) error {
	return m.srv.certificateAllowed(ctx, name)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*handlerModule)(nil)
	_ caddyhttp.MiddlewareHandler = (*handlerModule)(nil)
	_ caddy.WriterOpener          = (*logWriter)(nil)
	_ caddytls.OnDemandPermission = (*permissionModule)(nil)
)
