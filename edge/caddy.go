package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/filestorage" // certificate storage
	_ "github.com/caddyserver/caddy/v2/modules/logging"     // the json log encoder
)

func init() {
	caddy.RegisterModule(handlerModule{})
	caddy.RegisterModule(logWriter{})
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

// caddyConfig builds the JSON config for one server. The admin endpoint is
// off and the config is never persisted.
func caddyConfig(instance, bind, storageDir string) ([]byte, error) {
	handler, err := json.Marshal(map[string]any{"handler": "picloud", "instance": instance})
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"storage": map[string]any{"module": "file_system", "root": storageDir},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{
			"writer":  map[string]any{"output": "picloud", "instance": instance},
			"encoder": map[string]any{"format": "json"},
			"level":   "INFO",
		}}},
		"apps": map[string]any{"http": map[string]any{
			"servers": map[string]any{"picloud": map[string]any{
				"listen":          []string{bind},
				"automatic_https": map[string]any{"disable": true},
				"routes":          []any{map[string]any{"handle": []json.RawMessage{handler}}},
			}},
		}},
	}
	return json.Marshal(cfg)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*handlerModule)(nil)
	_ caddyhttp.MiddlewareHandler = (*handlerModule)(nil)
	_ caddy.WriterOpener          = (*logWriter)(nil)
)
