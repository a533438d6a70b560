package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
)

// Headers carrying a KV value's metadata (JSON) and expiration (unix
// seconds) beside its raw bytes.
const (
	KVMetadataHeader   = "X-PiCloud-KV-Metadata"
	KVExpirationHeader = "X-PiCloud-KV-Expiration"
)

// KVNamespaceInfo is one namespace an app uses, with its live key count.
type KVNamespaceInfo struct {
	Namespace string `json:"namespace"`
	Keys      int64  `json:"keys"`
}

// KVNamespaces lists the namespaces holding live keys for an app.
func (m *Manager) KVNamespaces(ctx context.Context, appID string) ([]KVNamespaceInfo, error) {
	rows, err := m.pool.Query(ctx, `
		SELECT namespace, count(*) FROM kv_entries
		WHERE app_id = $1 AND (expires_at IS NULL OR expires_at > now())
		GROUP BY namespace ORDER BY namespace`, appID)
	if err != nil {
		return nil, fmt.Errorf("listing kv namespaces: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KVNamespaceInfo, error) {
		var n KVNamespaceInfo
		return n, r.Scan(&n.Namespace, &n.Keys)
	})
	if err != nil {
		return nil, fmt.Errorf("listing kv namespaces: %w", err)
	}
	if out == nil {
		out = []KVNamespaceInfo{}
	}
	return out, nil
}

// registerKVRoutes mounts the KV and secret endpoints. Every handler gates
// on its app first with pathApp: reads need script:read, writes
// script:write (secrets are part of what a script runs with).
func (m *Manager) registerKVRoutes(g gin.IRoutes) {
	g.GET("/apps/:app/kv", m.h(m.handleKVNamespaces))
	g.GET("/apps/:app/kv/:namespace/keys", m.h(m.handleKVKeys))
	g.GET("/apps/:app/kv/:namespace/values/*key", m.h(m.handleKVGet))
	g.PUT("/apps/:app/kv/:namespace/values/*key", m.h(m.handleKVPut))
	g.DELETE("/apps/:app/kv/:namespace/values/*key", m.h(m.handleKVDelete))
	g.PUT("/apps/:app/kv/:namespace/bulk", m.h(m.handleKVBulkPut))
	g.POST("/apps/:app/kv/:namespace/bulk/delete", m.h(m.handleKVBulkDelete))
	g.GET("/apps/:app/secrets", m.h(m.handleListSecrets))
	g.PUT("/apps/:app/secrets/:name", m.h(m.handlePutSecret))
	g.DELETE("/apps/:app/secrets/:name", m.h(m.handleDeleteSecret))
}

// kvError turns a refused KV argument into a 422 carrying Workers' message.
func kvError(err error) error {
	if errors.Is(err, ErrKVInvalid) {
		return invalid("invalid_kv", "%s", strings.Replace(err.Error(), ErrKVInvalid.Error()+": ", "", 1))
	}
	return err
}

// kvKey is the catch-all key parameter without its leading slash.
func kvKey(c *gin.Context) string { return strings.TrimPrefix(c.Param("key"), "/") }

func (m *Manager) handleKVNamespaces(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptRead)
	if err != nil {
		return err
	}
	ns, err := m.KVNamespaces(c.Request.Context(), app.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"namespaces": ns})
	return nil
}

func (m *Manager) handleKVKeys(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptRead)
	if err != nil {
		return err
	}
	opts := KVListOptions{Prefix: c.Query("prefix"), Cursor: c.Query("cursor")}
	if s := c.Query("limit"); s != "" {
		if opts.Limit, err = strconv.Atoi(s); err != nil || opts.Limit < 1 {
			return invalid("invalid_kv", "Invalid key_count_limit of %q. Please specify an integer between 1-%d.", s, KVMaxListLimit)
		}
	}
	list, err := m.KVListKeys(c.Request.Context(), app.ID, c.Param("namespace"), opts)
	if err != nil {
		return kvError(err)
	}
	c.JSON(http.StatusOK, list)
	return nil
}

func (m *Manager) handleKVGet(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptRead)
	if err != nil {
		return err
	}
	key := kvKey(c)
	e, ok, err := m.KVGet(c.Request.Context(), app.ID, c.Param("namespace"), key)
	if err != nil {
		return kvError(err)
	}
	if !ok {
		return notFound("key", key)
	}
	if len(e.Metadata) > 0 {
		c.Header(KVMetadataHeader, string(e.Metadata))
	}
	if !e.Expiration.IsZero() {
		c.Header(KVExpirationHeader, strconv.FormatInt(e.Expiration.Unix(), 10))
	}
	c.Data(http.StatusOK, "application/octet-stream", e.Value)
	return nil
}

func (m *Manager) handleKVPut(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	var opts KVPutOptions
	for name, dst := range map[string]*int64{"expiration": &opts.Expiration, "expiration_ttl": &opts.ExpirationTTL} {
		if s := c.Query(name); s != "" {
			if *dst, err = strconv.ParseInt(s, 10, 64); err != nil {
				return invalid("invalid_kv", "Invalid %s of %q. Please specify an integer.", name, s)
			}
		}
	}
	if md := c.GetHeader(KVMetadataHeader); md != "" {
		opts.Metadata = json.RawMessage(md)
	}
	value, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, KVMaxValueBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Message: fmt.Sprintf("Value length exceeds limit of %d.", KVMaxValueBytes)}
		}
		return &Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "reading request body: " + err.Error()}
	}
	key := kvKey(c)
	if err := m.KVPut(c.Request.Context(), app.ID, c.Param("namespace"), key, value, opts); err != nil {
		return kvError(err)
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (m *Manager) handleKVDelete(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	if err := m.KVDelete(c.Request.Context(), app.ID, c.Param("namespace"), kvKey(c)); err != nil {
		return kvError(err)
	}
	c.Status(http.StatusNoContent)
	return nil
}

// kvBulkMaxBody bounds a bulk call's JSON; smaller than 10,000 values of
// the largest size, so a Pi never holds gigabytes of one request.
const kvBulkMaxBody = 64 << 20

// bindBulk decodes a bulk call's JSON array into dst.
func bindBulk(c *gin.Context, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, kvBulkMaxBody))
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Message: fmt.Sprintf("a bulk call's body is limited to %d bytes", kvBulkMaxBody)}
		}
		return &Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "the body must be a JSON array: " + err.Error()}
	}
	return nil
}

func (m *Manager) handleKVBulkPut(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	var entries []KVBulkEntry
	if err := bindBulk(c, &entries); err != nil {
		return err
	}
	if err := m.KVBulkPut(c.Request.Context(), app.ID, c.Param("namespace"), entries); err != nil {
		return kvError(err)
	}
	c.JSON(http.StatusOK, gin.H{"written": len(entries)})
	return nil
}

func (m *Manager) handleKVBulkDelete(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	var keys []string
	if err := bindBulk(c, &keys); err != nil {
		return err
	}
	if err := m.KVBulkDelete(c.Request.Context(), app.ID, c.Param("namespace"), keys); err != nil {
		return kvError(err)
	}
	c.JSON(http.StatusOK, gin.H{"deleted": len(keys)})
	return nil
}

func (m *Manager) handleListSecrets(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptRead)
	if err != nil {
		return err
	}
	list, err := m.Secrets(c.Request.Context(), app.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []SecretInfo{}
	}
	c.JSON(http.StatusOK, gin.H{"secrets": list})
	return nil
}

// secretsUnavailable answers a node started without a secret key.
func secretsUnavailable(err error) error {
	if errors.Is(err, ErrNoSecretKey) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "no_secret_key",
			Message: "this node has no secret key configured; secrets are unavailable"}
	}
	return err
}

func (m *Manager) handlePutSecret(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	var in struct {
		Value *string `json:"value"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Value == nil {
		return invalid("missing_value", "value is required")
	}
	info, err := m.PutSecret(c.Request.Context(), app.ID, c.Param("name"), []byte(*in.Value))
	if err != nil {
		return secretsUnavailable(err)
	}
	// Names and times only: the value is write-only.
	c.JSON(http.StatusOK, info)
	return nil
}

func (m *Manager) handleDeleteSecret(c *gin.Context) error {
	app, err := m.pathApp(c, CapScriptWrite)
	if err != nil {
		return err
	}
	if err := m.DeleteSecret(c.Request.Context(), app.ID, c.Param("name")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// PurgeExpiredKVLoop purges expired KV keys every interval until ctx ends.
func (m *Manager) PurgeExpiredKVLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := m.PurgeExpiredKV(ctx, 1000)
			if err != nil {
				if ctx.Err() == nil {
					m.log.Warn("purging expired kv", "err", err)
				}
				break
			}
			if n > 0 {
				m.log.Debug("purged expired kv", "keys", n)
			}
			if n < 1000 {
				break
			}
		}
	}
}
