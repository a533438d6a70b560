package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Apps, domains and members.

func (m *Manager) handleListApps(c *gin.Context) error {
	all, err := m.Apps(c.Request.Context())
	if err != nil {
		return err
	}
	p := principal(c)
	apps := []App{}
	for _, a := range all {
		if can(p, CapAppRead, a.ID) {
			apps = append(apps, a)
		}
	}
	c.JSON(http.StatusOK, gin.H{"apps": apps})
	return nil
}

func (m *Manager) handleCreateApp(c *gin.Context) error {
	if err := require(c, CapAppCreate); err != nil {
		return err
	}
	var in struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	a, err := m.CreateApp(c.Request.Context(), in.Slug, in.Name)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, a)
	return nil
}

func (m *Manager) handleGetApp(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppRead)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, a)
	return nil
}

func (m *Manager) handleUpdateApp(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	var in struct {
		Slug         *string         `json:"slug"`
		Name         *string         `json:"name"`
		LogRetention json.RawMessage `json:"log_retention"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ret, err := retentionUpdate(in.LogRetention)
	if err != nil {
		return err
	}
	a, err = m.UpdateApp(c.Request.Context(), a.ID, AppUpdate{Slug: in.Slug, Name: in.Name, Retention: ret})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, a)
	return nil
}

// retentionUpdate reads a PATCH's log_retention: a field left out stays,
// null goes back to the node's bound, a value sets the app's own bound.
func retentionUpdate(raw json.RawMessage) (RetentionUpdate, error) {
	var up RetentionUpdate
	if len(raw) == 0 || string(raw) == "null" {
		return up, nil
	}
	var in struct {
		Executions json.RawMessage `json:"executions"`
		Lines      json.RawMessage `json:"lines"`
		Age        json.RawMessage `json:"age"`
	}
	if err := decodeJSON(raw, &in); err != nil {
		return up, err
	}
	bad := func(field, want string) error {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_retention",
			Message: fmt.Sprintf("log_retention.%s must be %s, or null for the node's bound", field, want), Details: map[string]any{"field": field}}
	}
	count := func(field string, raw json.RawMessage) (*int, error) {
		if raw == nil {
			return nil, nil
		}
		n := 0
		if string(raw) != "null" {
			if err := json.Unmarshal(raw, &n); err != nil || n < 1 {
				return nil, bad(field, "a positive whole number")
			}
		}
		return &n, nil
	}
	var err error
	if up.Executions, err = count("executions", in.Executions); err != nil {
		return up, err
	}
	if up.Lines, err = count("lines", in.Lines); err != nil {
		return up, err
	}
	if in.Age != nil {
		var d time.Duration
		if string(in.Age) != "null" {
			var s string
			if json.Unmarshal(in.Age, &s) != nil {
				return up, bad("age", `a duration such as "72h"`)
			}
			if d, err = time.ParseDuration(s); err != nil || d < time.Second {
				return up, bad("age", `a duration of at least 1s such as "72h"`)
			}
		}
		up.Age = &d
	}
	return up, nil
}

func (m *Manager) handleDeleteApp(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	force, err := boolQuery(c, "force")
	if err != nil {
		return err
	}
	if err := m.DeleteApp(c.Request.Context(), a.ID, force); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func boolQuery(c *gin.Context, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &Error{Status: http.StatusBadRequest, Code: "invalid_query", Message: name + " must be true or false"}
	}
	return b, nil
}

func (m *Manager) handleListDomains(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppRead)
	if err != nil {
		return err
	}
	ds, err := m.Domains(c.Request.Context(), a.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"domains": ds})
	return nil
}

func (m *Manager) handleClaimDomain(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	var in struct {
		Pattern string `json:"pattern"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	d, err := m.ClaimDomain(c.Request.Context(), a.ID, in.Pattern)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, d)
	return nil
}

func (m *Manager) handleReleaseDomain(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	if err := m.ReleaseDomain(c.Request.Context(), a.ID, c.Param("domain")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (m *Manager) handleListMembers(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppRead)
	if err != nil {
		return err
	}
	ms, err := m.Members(c.Request.Context(), a.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"members": ms})
	return nil
}

func (m *Manager) handleSetMember(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	mb, err := m.SetMember(c.Request.Context(), a.ID, c.Param("user"), in.Role)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mb)
	return nil
}

func (m *Manager) handleRemoveMember(c *gin.Context) error {
	a, err := m.pathApp(c, CapAppAdmin)
	if err != nil {
		return err
	}
	if err := m.RemoveMember(c.Request.Context(), a.ID, c.Param("user")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// Scripts and versions.

func (m *Manager) handleDeploy(c *gin.Context) error {
	var in struct {
		App      string          `json:"app"`
		Name     string          `json:"name"`
		Source   string          `json:"source"`
		Language string          `json:"language"`
		Bindings json.RawMessage `json:"bindings"`
		Limits   json.RawMessage `json:"limits"`
		Message  string          `json:"message"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	app, err := m.appFor(c, in.App, CapScriptWrite)
	if err != nil {
		return err
	}
	d, err := m.Deploy(c.Request.Context(), DeployInput{
		App: app.ID, Name: in.Name, Source: in.Source, Language: in.Language,
		Bindings: in.Bindings, Limits: in.Limits, Message: in.Message, AuthorID: principal(c).User.ID,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if d.Created {
		status = http.StatusCreated
	}
	c.JSON(status, d)
	return nil
}

func (m *Manager) handleListScripts(c *gin.Context) error {
	ref := c.Query("app")
	if ref == "" {
		ref = "default"
	}
	app, err := m.appFor(c, ref, CapScriptRead)
	if err != nil {
		return err
	}
	ss, err := m.Scripts(c.Request.Context(), app.ID)
	if err != nil {
		return err
	}
	if name := c.Query("name"); name != "" {
		out := []Script{}
		for _, s := range ss {
			if s.Name == name {
				out = append(out, s)
			}
		}
		ss = out
	}
	if ss == nil {
		ss = []Script{}
	}
	c.JSON(http.StatusOK, gin.H{"scripts": ss})
	return nil
}

func (m *Manager) handleGetScript(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptRead); err != nil {
		return err
	}
	s, err := m.Script(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s)
	return nil
}

func (m *Manager) handleDeleteScript(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptWrite); err != nil {
		return err
	}
	if err := m.DeleteScript(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (m *Manager) handleListVersions(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptRead); err != nil {
		return err
	}
	vs, err := m.Versions(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"versions": vs})
	return nil
}

func versionParam(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, notFound("version", s)
	}
	return v, nil
}

func (m *Manager) handleGetVersion(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptRead); err != nil {
		return err
	}
	v, err := versionParam(c.Param("version"))
	if err != nil {
		return err
	}
	ver, err := m.ScriptVersion(c.Request.Context(), id, v)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, ver)
	return nil
}

func (m *Manager) handleRollback(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptWrite); err != nil {
		return err
	}
	var in struct {
		Version int `json:"version"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return invalid("invalid_version", "version must be a positive version number")
	}
	s, err := m.Rollback(c.Request.Context(), id, in.Version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s)
	return nil
}

// Routes.

type routeBody struct {
	App      string `json:"app"`
	Script   string `json:"script"`
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	Dispatch string `json:"dispatch"`
}

func (m *Manager) routeFor(c *gin.Context, cap Capability) (Route, error) {
	r, err := m.RouteByID(c.Request.Context(), c.Param("id"))
	if err != nil {
		return Route{}, err
	}
	if err := checkApp(c, r.AppID, r.ID, cap); errors.Is(err, ErrNotFound) {
		return Route{}, notFound("route", r.ID)
	} else if err != nil {
		return Route{}, err
	}
	return r, nil
}

func (m *Manager) handleListRoutes(c *gin.Context) error {
	ref := c.Query("app")
	if ref == "" {
		ref = "default"
	}
	app, err := m.appFor(c, ref, CapScriptRead)
	if err != nil {
		return err
	}
	rs, err := m.Routes(c.Request.Context(), app.ID)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []Route{}
	}
	c.JSON(http.StatusOK, gin.H{"routes": rs})
	return nil
}

func (m *Manager) handleCreateRoute(c *gin.Context) error {
	var in routeBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	app, err := m.appFor(c, in.App, CapScriptWrite)
	if err != nil {
		return err
	}
	r, err := m.CreateRoute(c.Request.Context(), RouteInput{AppID: app.ID, Script: in.Script, Method: in.Method, Host: in.Host, Path: in.Path, Dispatch: in.Dispatch})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, r)
	return nil
}

func (m *Manager) handleCheckRoute(c *gin.Context) error {
	var in struct {
		routeBody
		ID string `json:"id"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	app, err := m.appFor(c, in.App, CapScriptRead)
	if err != nil {
		return err
	}
	r, err := m.CheckRoute(c.Request.Context(), in.ID, RouteInput{AppID: app.ID, Script: in.Script, Method: in.Method, Host: in.Host, Path: in.Path, Dispatch: in.Dispatch})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"ok": true, "route": r})
	return nil
}

func (m *Manager) handleMatchRoute(c *gin.Context) error {
	var in struct {
		App    string `json:"app"`
		Method string `json:"method"`
		Host   string `json:"host"`
		Path   string `json:"path"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request.Context()
	ref := in.App
	if ref == "" {
		// As the edge does: the host's domain claim picks the app.
		id, ok, err := m.AppForHost(ctx, in.Host)
		if err != nil {
			return err
		}
		if !ok {
			c.JSON(http.StatusOK, RouteMatch{})
			return nil
		}
		ref = id
	}
	app, err := m.appFor(c, ref, CapScriptRead)
	if errors.Is(err, ErrNotFound) && in.App == "" {
		// Not the caller's app: it learns nothing about it.
		c.JSON(http.StatusOK, RouteMatch{})
		return nil
	}
	if err != nil {
		return err
	}
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	mt, err := m.MatchRoute(ctx, app.ID, in.Method, in.Host, in.Path)
	if err != nil {
		return err
	}
	if mt.Matched {
		mt.App = app.Slug
	}
	c.JSON(http.StatusOK, mt)
	return nil
}

func (m *Manager) handleGetRoute(c *gin.Context) error {
	r, err := m.routeFor(c, CapScriptRead)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, r)
	return nil
}

func (m *Manager) handleUpdateRoute(c *gin.Context) error {
	r, err := m.routeFor(c, CapScriptWrite)
	if err != nil {
		return err
	}
	var in struct {
		Script   *string `json:"script"`
		Method   *string `json:"method"`
		Host     *string `json:"host"`
		Path     *string `json:"path"`
		Dispatch *string `json:"dispatch"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err = m.UpdateRoute(c.Request.Context(), r.ID, RoutePatch{Script: in.Script, Method: in.Method, Host: in.Host, Path: in.Path, Dispatch: in.Dispatch})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, r)
	return nil
}

func (m *Manager) handleDeleteRoute(c *gin.Context) error {
	r, err := m.routeFor(c, CapScriptWrite)
	if err != nil {
		return err
	}
	if err := m.DeleteRoute(c.Request.Context(), r.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// Users.

func (m *Manager) handleListUsers(c *gin.Context) error {
	if err := require(c, CapUsersAdmin); err != nil {
		return err
	}
	us, err := m.Users(c.Request.Context())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"users": us})
	return nil
}

func (m *Manager) handleCreateUser(c *gin.Context) error {
	if err := require(c, CapUsersAdmin); err != nil {
		return err
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = RoleMember
	}
	if in.Role == RoleOwner {
		if err := require(c, CapOwners); err != nil {
			return err
		}
	}
	u, err := m.CreateUser(c.Request.Context(), in.Username, in.Password, in.Role)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, u)
	return nil
}

// targetUser loads the :user of the path and checks the caller may change
// it: owners are only changed by owners.
func (m *Manager) targetUser(c *gin.Context) (User, error) {
	if err := require(c, CapUsersAdmin); err != nil {
		return User{}, err
	}
	u, err := m.User(c.Request.Context(), c.Param("user"))
	if err != nil {
		return User{}, err
	}
	if u.Role == RoleOwner {
		if err := require(c, CapOwners); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

func (m *Manager) handleGetUser(c *gin.Context) error {
	p := principal(c)
	ref := c.Param("user")
	if ref != p.User.ID && ref != p.User.Username {
		if err := require(c, CapUsersAdmin); err != nil {
			return err
		}
	}
	u, err := m.User(c.Request.Context(), ref)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (m *Manager) handleUpdateUser(c *gin.Context) error {
	u, err := m.targetUser(c)
	if err != nil {
		return err
	}
	var in struct {
		Role   *string `json:"role"`
		Active *bool   `json:"active"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Role != nil && *in.Role == RoleOwner {
		if err := require(c, CapOwners); err != nil {
			return err
		}
	}
	u, err = m.UpdateUser(c.Request.Context(), u.ID, UserUpdate{Role: in.Role, Active: in.Active})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (m *Manager) handleDeleteUser(c *gin.Context) error {
	u, err := m.targetUser(c)
	if err != nil {
		return err
	}
	if err := m.DeleteUser(c.Request.Context(), u.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (m *Manager) handleSetPassword(c *gin.Context) error {
	u, err := m.targetUser(c)
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if err := m.SetPassword(c.Request.Context(), u.ID, in.Password, ""); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// API keys.

func (m *Manager) handleListKeys(c *gin.Context) error {
	if err := require(c, CapAccount); err != nil {
		return err
	}
	ks, err := m.Keys(c.Request.Context(), principal(c).User.ID)
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []APIKey{}
	}
	c.JSON(http.StatusOK, gin.H{"keys": ks})
	return nil
}

func (m *Manager) handleCreateKey(c *gin.Context) error {
	if err := require(c, CapAccount); err != nil {
		return err
	}
	var in struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		App       string     `json:"app"`
		ExpiresAt *time.Time `json:"expires_at"`
		ExpiresIn string     `json:"expires_in"` // a Go duration, e.g. "720h"
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	k := KeyInput{UserID: principal(c).User.ID, Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 || in.ExpiresAt != nil {
			return invalid("invalid_expiry", "expires_in must be a positive duration such as 720h, and not given with expires_at")
		}
		t := m.now().Add(d)
		k.ExpiresAt = &t
	}
	if in.App != "" {
		app, err := m.appFor(c, in.App, CapAppRead)
		if err != nil {
			return err
		}
		k.AppID = app.ID
	}
	out, err := m.CreateKey(c.Request.Context(), k)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, out)
	return nil
}

func (m *Manager) handleDeleteKey(c *gin.Context) error {
	if err := require(c, CapAccount); err != nil {
		return err
	}
	k, err := m.Key(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if k.UserID != principal(c).User.ID && !can(principal(c), CapUsersAdmin, "") {
		return notFound("key", k.ID)
	}
	if err := m.DeleteKey(c.Request.Context(), k.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
