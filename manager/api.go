package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// APIPrefix is where the admin API is mounted.
const APIPrefix = "/api/v1/admin"

// maxRequestBody bounds every admin request body.
const maxRequestBody = 4 << 20

const sessionCookie = "picloud_session"

// Handler returns the admin API as an http.Handler to mount at APIPrefix.
func (m *Manager) Handler() http.Handler {
	r := gin.New()
	r.HandleMethodNotAllowed = true
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

	api := r.Group(APIPrefix)
	api.POST("/auth/login", m.handleLogin)

	authed := api.Group("", m.requireSession)
	authed.POST("/auth/logout", m.handleLogout)
	authed.GET("/auth/me", m.handleMe)
	authed.POST("/apps", m.handleCreateApp)
	authed.POST("/scripts", m.handleDeploy)
	authed.GET("/scripts", m.handleListScripts)
	authed.GET("/scripts/:id", m.handleGetScript)
	return r
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
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "invalid JSON body: " + err.Error()}
	}
	if dec.More() {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "invalid JSON body: trailing data after the object"}
	}
	return nil
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		return ck.Value
	}
	return ""
}

func (m *Manager) requireSession(c *gin.Context) {
	u, err := m.Authenticate(c.Request.Context(), bearerToken(c.Request))
	if errors.Is(err, ErrUnauthenticated) {
		c.Header("WWW-Authenticate", `Bearer realm="picloud"`)
		m.abort(c, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "log in first: send Authorization: Bearer <token>"})
		return
	}
	if err != nil {
		m.abort(c, err)
		return
	}
	c.Set("user", u)
	c.Next()
}

func currentUser(c *gin.Context) User {
	u, _ := c.Get("user")
	return u.(User)
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
	s, err := m.Login(c.Request.Context(), in.Username, in.Password)
	if errors.Is(err, ErrBadCredentials) {
		m.abort(c, &Error{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: err.Error()})
		return
	}
	if err != nil {
		m.abort(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: s.Token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
	c.JSON(http.StatusOK, s)
}

func (m *Manager) handleLogout(c *gin.Context) {
	if err := m.Logout(c.Request.Context(), bearerToken(c.Request)); err != nil {
		m.abort(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	c.Status(http.StatusNoContent)
}

func (m *Manager) handleMe(c *gin.Context) {
	c.JSON(http.StatusOK, currentUser(c))
}

func (m *Manager) handleCreateApp(c *gin.Context) {
	var in struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		m.abort(c, err)
		return
	}
	a, err := m.CreateApp(c.Request.Context(), in.Slug, in.Name)
	if err != nil {
		m.abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

func (m *Manager) handleDeploy(c *gin.Context) {
	var in struct {
		App      string          `json:"app"`
		Name     string          `json:"name"`
		Source   string          `json:"source"`
		Language string          `json:"language"`
		Bindings json.RawMessage `json:"bindings"`
		Message  string          `json:"message"`
	}
	if err := bindJSON(c, &in); err != nil {
		m.abort(c, err)
		return
	}
	if in.App == "" {
		m.abort(c, invalid("missing_app", "app (slug or id) is required"))
		return
	}
	d, err := m.Deploy(c.Request.Context(), DeployInput{
		App: in.App, Name: in.Name, Source: in.Source, Language: in.Language,
		Bindings: in.Bindings, Message: in.Message, AuthorID: currentUser(c).ID,
	})
	if err != nil {
		m.abort(c, err)
		return
	}
	status := http.StatusOK
	if d.Created {
		status = http.StatusCreated
	}
	c.JSON(status, d)
}

func (m *Manager) handleListScripts(c *gin.Context) {
	app := c.Query("app")
	if app == "" {
		app = "default"
	}
	ss, err := m.Scripts(c.Request.Context(), app)
	if err != nil {
		m.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"scripts": ss})
}

func (m *Manager) handleGetScript(c *gin.Context) {
	s, err := m.Script(c.Request.Context(), c.Param("id"))
	if err != nil {
		m.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}
