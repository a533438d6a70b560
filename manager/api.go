package manager

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// APIPrefix is where the admin API is mounted.
const APIPrefix = "/api/v1/admin"

// maxRequestBody bounds every admin request body.
const maxRequestBody = 4 << 20

const (
	sessionCookie = "picloud_session"
	// csrfCookie holds the CSRF token for browser code to echo in the
	// csrfHeader on every cookie-authenticated write.
	csrfCookie = "picloud_csrf"
	csrfHeader = "X-PiCloud-CSRF"
)

// errHandled tells h that the handler already answered (a redirect).
var errHandled = errors.New("handled")

// Handler returns the admin API as an http.Handler to mount at APIPrefix.
func (m *Manager) Handler() http.Handler { return m.router() }

func (m *Manager) router() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The admin API is served in process by the edge: the peer address is
	// the client, and forwarded headers are not to be believed.
	_ = r.SetTrustedProxies(nil)
	r.Use(m.accessLog, gin.CustomRecovery(func(c *gin.Context, err any) {
		m.log.Error("admin api panic", "err", err, "path", c.Request.URL.Path)
		m.abort(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
	}))
	r.NoRoute(func(c *gin.Context) {
		m.abort(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + c.Request.Method + " " + c.Request.URL.Path})
	})
	r.NoMethod(func(c *gin.Context) {
		m.abort(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	api := r.Group(APIPrefix, m.checkOrigin)
	api.GET("/openapi.json", m.handleOpenAPI)
	api.POST("/auth/login", m.handleLogin)
	// First-run setup (setup.go): public, refused once an admin exists.
	api.GET("/setup", m.handleSetupStatus)
	api.POST("/setup", m.handleSetup)

	a := api.Group("", m.authenticate)
	a.POST("/auth/logout", m.h(m.handleLogout))
	a.GET("/auth/me", m.h(m.handleMe))
	a.POST("/auth/password", m.h(m.handleChangePassword))

	a.GET("/apps", m.h(m.handleListApps))
	a.POST("/apps", m.h(m.handleCreateApp))
	a.GET("/apps/:app", m.h(m.handleGetApp))
	a.PATCH("/apps/:app", m.h(m.handleUpdateApp))
	a.DELETE("/apps/:app", m.h(m.handleDeleteApp))
	a.GET("/apps/:app/domains", m.h(m.handleListDomains))
	a.POST("/apps/:app/domains", m.h(m.handleClaimDomain))
	a.DELETE("/apps/:app/domains/:domain", m.h(m.handleReleaseDomain))
	a.GET("/apps/:app/members", m.h(m.handleListMembers))
	a.PUT("/apps/:app/members/:user", m.h(m.handleSetMember))
	a.DELETE("/apps/:app/members/:user", m.h(m.handleRemoveMember))

	a.POST("/scripts", m.h(m.handleDeploy))
	a.GET("/scripts", m.h(m.handleListScripts))
	a.GET("/scripts/:id", m.h(m.handleGetScript))
	a.DELETE("/scripts/:id", m.h(m.handleDeleteScript))
	a.GET("/scripts/:id/versions", m.h(m.handleListVersions))
	a.GET("/scripts/:id/versions/:version", m.h(m.handleGetVersion))
	a.POST("/scripts/:id/rollback", m.h(m.handleRollback))
	// Cron triggers (cron.go): CapScriptRead to list, CapScriptWrite to set.
	a.GET("/scripts/:id/crons", m.h(m.handleListCrons))
	a.PUT("/scripts/:id/crons", m.h(m.handleSetCrons))

	a.GET("/routes", m.h(m.handleListRoutes))
	a.POST("/routes", m.h(m.handleCreateRoute))
	a.POST("/routes/check", m.h(m.handleCheckRoute))
	a.POST("/routes/match", m.h(m.handleMatchRoute))
	a.GET("/routes/:id", m.h(m.handleGetRoute))
	a.PATCH("/routes/:id", m.h(m.handleUpdateRoute))
	a.DELETE("/routes/:id", m.h(m.handleDeleteRoute))

	a.GET("/users", m.h(m.handleListUsers))
	a.POST("/users", m.h(m.handleCreateUser))
	a.GET("/users/:user", m.h(m.handleGetUser))
	a.PATCH("/users/:user", m.h(m.handleUpdateUser))
	a.DELETE("/users/:user", m.h(m.handleDeleteUser))
	a.PUT("/users/:user/password", m.h(m.handleSetPassword))

	a.GET("/keys", m.h(m.handleListKeys))
	a.POST("/keys", m.h(m.handleCreateKey))
	a.DELETE("/keys/:id", m.h(m.handleDeleteKey))

	// Execution logs (logs.go): each handler gated with CapLogsRead.
	m.registerLogRoutes(a)
	// Per-script metrics from the execution log (metrics.go), CapLogsRead.
	a.GET("/metrics", m.h(m.handleMetrics))
	// KV and secrets (kv_api.go): each handler gated with pathApp.
	m.registerKVRoutes(a)
	return r
}

// h adapts a handler that returns an error to gin, answering errors with
// the envelope.
func (m *Manager) h(f func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := f(c); err != nil && !errors.Is(err, errHandled) {
			m.abort(c, err)
		}
	}
}

func (m *Manager) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	m.log.LogAttrs(c.Request.Context(), slog.LevelDebug, "admin request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", time.Since(start)))
}

// abort answers with the error envelope. Errors that are not *Error are
// logged and answered as a bare 500 so internals never leak.
func (m *Manager) abort(c *gin.Context, err error) {
	var e *Error
	if !errors.As(err, &e) {
		m.log.Error("admin request failed", "err", err, "method", c.Request.Method, "path", c.Request.URL.Path)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	body := gin.H{"code": e.Code, "message": e.Message}
	if e.Details != nil {
		body["details"] = e.Details
	}
	c.AbortWithStatusJSON(e.Status, gin.H{"error": body})
}

// bindJSON decodes a bounded JSON body, refusing unknown fields and
// trailing data.
func bindJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("request body exceeds %d bytes", maxRequestBody)}
		}
		return &Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "reading request body: " + err.Error()}
	}
	return decodeJSON(body, dst)
}

func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "invalid JSON body: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "invalid JSON body: trailing data after the object"}
	}
	return nil
}

// csrfToken derives the CSRF token of a session: only a holder of the
// session token (an HttpOnly cookie) can know it.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("picloud-csrf:" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// checkOrigin refuses state-changing requests a browser sent from another
// site (Origin or Sec-Fetch-Site), whatever their credentials.
func (m *Manager) checkOrigin(c *gin.Context) {
	if !unsafeMethod(c.Request.Method) {
		return
	}
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		m.abort(c, &Error{Status: http.StatusForbidden, Code: "csrf_failed", Message: "cross-site request refused"})
		return
	}
	if o := c.GetHeader("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, c.Request.Host) {
			m.abort(c, &Error{Status: http.StatusForbidden, Code: "csrf_failed", Message: fmt.Sprintf("origin %q does not match host %q", o, c.Request.Host)})
			return
		}
	}
}

// credentials returns the caller's token and whether it came from the
// session cookie. An Authorization header wins over the cookie.
func credentials(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		return ck.Value, true
	}
	return "", false
}

// authenticate resolves the caller (session token or API key, header or
// cookie) into a Principal; cookie-authenticated writes must carry the
// CSRF header.
func (m *Manager) authenticate(c *gin.Context) {
	ctx := c.Request.Context()
	token, cookie := credentials(c.Request)
	p := Principal{Cookie: cookie, token: token}
	var err error
	if strings.HasPrefix(token, keyPrefix) {
		var k APIKey
		p.User, k, err = m.AuthenticateKey(ctx, token)
		p.Key = &k
	} else {
		p.User, err = m.Authenticate(ctx, token)
	}
	if errors.Is(err, ErrUnauthenticated) {
		c.Header("WWW-Authenticate", `Bearer realm="picloud"`)
		m.abort(c, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "log in first: send Authorization: Bearer <session token or API key>"})
		return
	}
	if err != nil {
		m.abort(c, err)
		return
	}
	if cookie && unsafeMethod(c.Request.Method) &&
		subtle.ConstantTimeCompare([]byte(c.GetHeader(csrfHeader)), []byte(csrfToken(token))) != 1 {
		m.abort(c, &Error{Status: http.StatusForbidden, Code: "csrf_failed",
			Message: "a cookie-authenticated write needs the " + csrfHeader + " header (the csrf_token from login)"})
		return
	}
	if p.User.Role == RoleMember {
		if p.Apps, err = m.memberships(ctx, p.User.ID); err != nil {
			m.abort(c, err)
			return
		}
	}
	c.Set("principal", p)
	c.Next()
}

func principal(c *gin.Context) Principal {
	p, _ := c.Get("principal")
	return p.(Principal)
}

func forbidden(cap Capability) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden",
		Message: fmt.Sprintf("you are not allowed to do this (needs %s)", cap), Details: map[string]any{"capability": cap}}
}

// require passes when the caller holds an instance-level capability.
func require(c *gin.Context, cap Capability) error {
	if !can(principal(c), cap, "") {
		return forbidden(cap)
	}
	return nil
}

// appFor resolves an app reference from a body or query and checks cap on
// it. An app the caller may not even see answers 404, as if it did not
// exist.
func (m *Manager) appFor(c *gin.Context, ref string, cap Capability) (App, error) {
	if ref == "" {
		return App{}, invalid("missing_app", "app (slug or id) is required")
	}
	a, _, err := lookupApp(c.Request.Context(), m.pool, ref)
	if err != nil {
		return App{}, err
	}
	return a, checkApp(c, a.ID, ref, cap)
}

func checkApp(c *gin.Context, appID, ref string, cap Capability) error {
	p := principal(c)
	if !can(p, CapAppRead, appID) {
		return notFound("app", ref)
	}
	if !can(p, cap, appID) {
		return forbidden(cap)
	}
	return nil
}

// pathApp is appFor for the :app path parameter: a retired slug answers a
// permanent redirect to the same path under the current slug.
func (m *Manager) pathApp(c *gin.Context, cap Capability) (App, error) {
	ref := c.Param("app")
	a, moved, err := lookupApp(c.Request.Context(), m.pool, ref)
	if err != nil {
		return App{}, err
	}
	if err := checkApp(c, a.ID, ref, CapAppRead); err != nil {
		return App{}, err
	}
	if moved {
		u := *c.Request.URL
		u.Path = strings.Replace(u.Path, "/apps/"+ref, "/apps/"+a.Slug, 1)
		u.RawPath = ""
		c.Redirect(http.StatusPermanentRedirect, u.RequestURI())
		c.Abort()
		return App{}, errHandled
	}
	return a, checkApp(c, a.ID, ref, cap)
}

// scriptFor checks cap on the app of the script named by id.
func (m *Manager) scriptFor(c *gin.Context, id string, cap Capability) error {
	appID, err := m.ScriptApp(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if err := checkApp(c, appID, id, cap); errors.Is(err, ErrNotFound) {
		return notFound("script", id)
	} else if err != nil {
		return err
	}
	return nil
}

func (m *Manager) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}

func (m *Manager) handleLogin(c *gin.Context) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := bindJSON(c, &in); err != nil {
		m.abort(c, err)
		return
	}
	if in.Username == "" || in.Password == "" {
		m.abort(c, invalid("missing_credentials", "username and password are required"))
		return
	}
	addr := c.ClientIP()
	if ok, wait := m.limiter.allow(in.Username, addr, m.now()); !ok {
		secs := int(wait/time.Second) + 1
		c.Header("Retry-After", fmt.Sprint(secs))
		m.abort(c, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: fmt.Sprintf("too many failed logins; retry in %d seconds", secs), Details: map[string]any{"retry_after": secs}})
		return
	}
	s, err := m.Login(c.Request.Context(), in.Username, in.Password)
	if errors.Is(err, ErrBadCredentials) {
		m.limiter.fail(in.Username, addr, m.now())
		m.abort(c, &Error{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: err.Error()})
		return
	}
	if err != nil {
		m.abort(c, err)
		return
	}
	m.limiter.succeed(in.Username)
	m.startSession(c, http.StatusOK, s)
}

// startSession answers a new session: the token in the body and in the
// session cookie, with the CSRF token beside it.
func (m *Manager) startSession(c *gin.Context, status int, s Session) {
	secure := c.Request.TLS != nil
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: s.Token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	})
	csrf := csrfToken(s.Token)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: csrfCookie, Value: csrf, Path: "/", Expires: s.ExpiresAt,
		SameSite: http.SameSiteStrictMode, Secure: secure,
	})
	c.JSON(status, gin.H{"token": s.Token, "expires_at": s.ExpiresAt, "user": s.User, "csrf_token": csrf})
}

func (m *Manager) handleLogout(c *gin.Context) error {
	p := principal(c)
	if p.Key == nil {
		if err := m.Logout(c.Request.Context(), p.token); err != nil {
			return err
		}
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == sessionCookie, SameSite: http.SameSiteStrictMode})
	}
	c.Status(http.StatusNoContent)
	return nil
}

// meApp is one of the caller's app roles.
type meApp struct {
	AppID string `json:"app_id"`
	Role  string `json:"role"`
}

func (m *Manager) handleMe(c *gin.Context) error {
	p := principal(c)
	out := struct {
		User
		Auth      string   `json:"auth"` // "session" or "key"
		Apps      []meApp  `json:"apps"`
		Key       *APIKey  `json:"key,omitempty"`
		CSRFToken string   `json:"csrf_token,omitempty"`
		Caps      []string `json:"capabilities"`
	}{User: p.User, Auth: "session", Apps: []meApp{}, Key: p.Key}
	if p.Key != nil {
		out.Auth = "key"
	} else if p.Cookie {
		out.CSRFToken = csrfToken(p.token)
	}
	for app, role := range p.Apps {
		out.Apps = append(out.Apps, meApp{AppID: app, Role: role})
	}
	out.Caps = []string{}
	for _, cp := range []Capability{CapAppCreate, CapUsersAdmin, CapOwners, CapAccount} {
		if can(p, cp, "") {
			out.Caps = append(out.Caps, string(cp))
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (m *Manager) handleChangePassword(c *gin.Context) error {
	if err := require(c, CapAccount); err != nil {
		return err
	}
	var in struct {
		Current  string `json:"current_password"`
		Password string `json:"new_password"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p := principal(c)
	if err := m.ChangePassword(c.Request.Context(), p.User.ID, in.Current, in.Password, p.token); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
