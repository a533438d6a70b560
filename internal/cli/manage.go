package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// jsonArg reads a flag holding JSON, or @FILE holding JSON; empty is nil.
func (r *runner) jsonArg(name, v string) (json.RawMessage, error) {
	if v == "" {
		return nil, nil
	}
	b := []byte(v)
	if rest, ok := strings.CutPrefix(v, "@"); ok {
		var err error
		if b, err = r.readAllFile(rest); err != nil {
			return nil, err
		}
	}
	if !json.Valid(b) {
		return nil, usagef("--%s must be JSON (or @FILE holding JSON)", name)
	}
	return b, nil
}

// flagSet reports whether a flag was given on the command line.
func flagSet(f *flags, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// appShow prints one app with its domains.
func appShow(ctx context.Context, r *runner, f *flags, args []string) error {
	if err := f.parse(args, 1, 1); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var a app
	if err := c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(f.arg(0)), nil, nil, &a); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(a)
	}
	var ds struct {
		Domains []domain `json:"domains"`
	}
	if err := c.do(ctx, http.MethodGet, "/apps/"+a.ID+"/domains", nil, nil, &ds); err != nil {
		return err
	}
	var pats []string
	for _, d := range ds.Domains {
		pats = append(pats, d.Pattern)
	}
	r.out.printf("%s (%s)\n  id:      %s\n  created: %s\n  domains: %s\n  logs:    %s\n", a.Slug, a.Name, a.ID,
		a.CreatedAt.Local().Format("2006-01-02 15:04"), orDash(strings.Join(pats, ", ")), retentionLine(a))
	if a.Slug != f.arg(0) && a.ID != f.arg(0) {
		r.out.printf("  (%s is a former slug of this app)\n", f.arg(0))
	}
	return nil
}

// retentionLine describes an app's log retention.
func retentionLine(a app) string {
	part := func(what string, v *int) string {
		if v == nil {
			return what + " node default"
		}
		return fmt.Sprintf("%s %d", what, *v)
	}
	age := "age node default"
	if a.LogRetention.Age != nil {
		age = "age " + *a.LogRetention.Age
	}
	return "keeps " + part("executions", a.LogRetention.Executions) + ", " + part("lines", a.LogRetention.Lines) + ", " + age
}

// appSet changes an app's slug, display name or log retention: `apps set
// APP --slug S --name N --log-executions N --log-lines N --log-age D`, or
// `apps rename APP NEW_SLUG`.
func appSet(ctx context.Context, r *runner, f *flags, sub string, args []string) error {
	body := map[string]any{}
	if sub == "rename" {
		if err := f.parse(args, 2, 2); err != nil {
			return err
		}
		body["slug"] = f.arg(1)
	} else {
		slug := f.String("slug", "", "new slug; the old one keeps redirecting until another app takes it")
		name := f.String("name", "", "new display name")
		execs := f.String("log-executions", "", `executions of the app to keep (at most the node's bound; "default": the node's)`)
		lines := f.String("log-lines", "", `console lines of the app to keep (at most the node's bound; "default": the node's)`)
		age := f.String("log-age", "", `how long to keep the app's executions, e.g. 72h (at most the node's bound; "default": the node's)`)
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		if flagSet(f, "slug") {
			body["slug"] = *slug
		}
		if flagSet(f, "name") {
			body["name"] = *name
		}
		ret := map[string]any{}
		for _, x := range []struct {
			flag, field, v string
			number         bool
		}{{"log-executions", "executions", *execs, true}, {"log-lines", "lines", *lines, true}, {"log-age", "age", *age, false}} {
			switch {
			case !flagSet(f, x.flag):
			case x.v == "default":
				ret[x.field] = nil
			case x.number:
				n, err := strconv.Atoi(x.v)
				if err != nil || n < 1 {
					return usagef("--%s must be a positive number or \"default\"", x.flag)
				}
				ret[x.field] = n
			default:
				ret[x.field] = x.v
			}
		}
		if len(ret) > 0 {
			body["log_retention"] = ret
		}
		if len(body) == 0 {
			return usagef("nothing to change: give --slug, --name, --log-executions, --log-lines or --log-age")
		}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var a app
	if err := c.do(ctx, http.MethodPatch, "/apps/"+url.PathEscape(f.arg(0)), nil, body, &a); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(a)
	}
	if s, ok := body["slug"].(string); ok && s != f.arg(0) {
		r.out.printf("Renamed app %s to %s. The old slug keeps working (admin paths redirect) until another app takes it.\n", f.arg(0), a.Slug)
		if r.env.Getenv("PICLOUD_APP") == f.arg(0) {
			fmt.Fprintf(r.env.Stderr, "note: PICLOUD_APP is still %s\n", f.arg(0))
		}
		return nil
	}
	r.out.printf("Updated app %s: name %q; logs: %s.\n", a.Slug, a.Name, retentionLine(a))
	return nil
}

// scriptCmd runs `scripts show|source|rm SCRIPT`.
func scriptCmd(ctx context.Context, r *runner, sub string, args []string) error {
	f := newFlags("scripts " + sub)
	appRef := r.appFlag(f)
	var ver *int
	if sub != "rm" && sub != "delete" {
		ver = f.Int("version", 0, "a stored version (default: the current one)")
	}
	if err := f.parse(args, 1, 1); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	s, err := resolveScript(ctx, c, *appRef, f.arg(0))
	if err != nil {
		return err
	}
	if sub == "rm" || sub == "delete" {
		if err := c.do(ctx, http.MethodDelete, "/scripts/"+s.ID, nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": s.ID, "app": s.App, "name": s.Name})
		}
		r.out.printf("Deleted script %s/%s with its versions and routes.\n", s.App, s.Name)
		return nil
	}
	n := *ver
	if n == 0 {
		n = s.Version
	}
	var v struct {
		version
		Source   string                     `json:"source"`
		Bindings map[string]json.RawMessage `json:"bindings"`
		Limits   map[string]int64           `json:"limits"`
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/scripts/"+s.ID+"/versions/"+strconv.Itoa(n), nil, nil, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	if sub == "source" {
		if r.json {
			return r.out.emit(raw)
		}
		r.out.printf("%s", v.Source)
		if !strings.HasSuffix(v.Source, "\n") {
			r.out.printf("\n")
		}
		return nil
	}
	routes, err := listRoutes(ctx, c, s.AppID)
	if err != nil {
		return err
	}
	var mine []routeT
	for _, rt := range routes {
		if rt.ScriptID == s.ID {
			mine = append(mine, rt)
		}
	}
	if r.json {
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		delete(out, "source")
		out["id"], out["app"], out["name"], out["current_version"], out["routes"] = s.ID, s.App, s.Name, s.Version, mine
		return r.out.emit(out)
	}
	hash := v.Hash
	if len(hash) > 12 {
		hash = hash[:12]
	}
	cur := ""
	if v.Current {
		cur = " (current)"
	}
	r.out.printf("%s/%s\n  id:       %s\n  version:  %d%s of %s, %s\n  created:  %s by %s\n", s.App, s.Name, s.ID,
		v.Version, cur, v.Language, hash, v.CreatedAt.Local().Format("2006-01-02 15:04"), orDash(v.Author))
	if v.Message != "" {
		r.out.printf("  message:  %s\n", v.Message)
	}
	r.out.printf("  bindings: %s\n  limits:   %s\n", bindingsLine(v.Bindings), limitsLine(v.Limits))
	if len(mine) == 0 {
		r.out.printf("  routes:   none (call it at %s/api/v1/execute/%s)\n", c.base, s.ID)
	}
	for i, rt := range mine {
		label := "routes:"
		if i > 0 {
			label = ""
		}
		m := rt.Method
		if m == "*" || m == "" {
			m = "ANY"
		}
		r.out.printf("  %-9s %s %s%s (%s)\n", label, m, rt.Host, rt.Path, rt.ID)
	}
	return nil
}

func bindingsLine(bs map[string]json.RawMessage) string {
	if len(bs) == 0 {
		return "none"
	}
	var names []string
	for n, raw := range bs {
		var b struct {
			Type      string `json:"type"`
			Namespace string `json:"namespace"`
		}
		_ = json.Unmarshal(raw, &b)
		desc := b.Type
		if b.Namespace != "" {
			desc += " " + b.Namespace
		}
		names = append(names, fmt.Sprintf("%s (%s)", n, desc))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func limitsLine(ls map[string]int64) string {
	if len(ls) == 0 {
		return "node defaults"
	}
	var parts []string
	for k, v := range ls {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// routeCheck asks whether a route could be added (or an existing one
// changed, --id) without storing anything.
func routeCheck(ctx context.Context, r *runner, f *flags, appRef *string, args []string) error {
	host := f.String("host", "", "host the route answers on (default: any)")
	id := f.String("id", "", "check a change of this existing route instead of a new one")
	if err := f.parse(args, 2, 2); err != nil {
		return err
	}
	method, path, err := parseRouteSpec(f.arg(1))
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var out struct {
		OK    bool   `json:"ok"`
		Route routeT `json:"route"`
	}
	if err := c.do(ctx, http.MethodPost, "/routes/check", nil, map[string]string{
		"app": *appRef, "script": f.arg(0), "method": method, "host": *host, "path": path, "id": *id,
	}, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(out)
	}
	r.out.printf("OK: %s %s%s → %s fits app %s's routes.\n", out.Route.Method, out.Route.Host, out.Route.Path, f.arg(0), *appRef)
	return nil
}

// routeMatch says which route would answer a request, as the edge
// decides it; no match is exit 4.
func routeMatch(ctx context.Context, r *runner, f *flags, appRef *string, args []string) error {
	host := f.String("host", "", "the request's host (without --app, its domain claim picks the app, as at the edge)")
	if err := f.parse(args, 1, 1); err != nil {
		return err
	}
	method, path, err := parseRouteSpec(f.arg(0))
	if err != nil {
		return err
	}
	if method == "*" {
		method = http.MethodGet
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	in := map[string]string{"method": method, "host": *host, "path": path}
	if *host == "" || flagSet(f, "app") || r.env.Getenv("PICLOUD_APP") != "" {
		in["app"] = *appRef
	}
	var out struct {
		Matched bool              `json:"matched"`
		App     string            `json:"app"`
		Route   *routeT           `json:"route"`
		Params  map[string]string `json:"params"`
		Rest    string            `json:"rest"`
	}
	if err := c.do(ctx, http.MethodPost, "/routes/match", nil, in, &out); err != nil {
		return err
	}
	where := method + " " + *host + path
	if r.json {
		if err := r.out.emit(out); err != nil {
			return err
		}
	} else if out.Matched {
		var ps []string
		for k, v := range out.Params {
			ps = append(ps, k+"="+v)
		}
		sort.Strings(ps)
		if out.Rest != "" {
			ps = append(ps, "rest="+out.Rest)
		}
		r.out.printf("%s → app %s, route %s %s%s → script %s (%s)\n", where, out.App, out.Route.Method, out.Route.Host, out.Route.Path,
			orDash(out.Route.Script), out.Route.ID)
		if len(ps) > 0 {
			r.out.printf("  params: %s\n", strings.Join(ps, " "))
		}
	}
	if !out.Matched {
		scope := "app " + in["app"]
		if in["app"] == "" {
			scope = "any app you can see (the host picks the app by its domain claims)"
		}
		return fmt.Errorf("%w: no route of %s matches %s", errNotFound, scope, where)
	}
	return nil
}

// routeSet changes an existing route: `routes set ID ["METHOD /path"]
// [--script S] [--host H]`.
func routeSet(ctx context.Context, r *runner, f *flags, appRef *string, args []string) error {
	script := f.String("script", "", "bind the route to another script (name or id)")
	host := f.String("host", "", `new host ("" or "*" for any)`)
	if err := f.parse(args, 1, 2); err != nil {
		return err
	}
	body := map[string]string{}
	if spec := f.arg(1); spec != "" {
		method, path, err := parseRouteSpec(spec)
		if err != nil {
			return err
		}
		body["method"], body["path"] = method, path
	}
	if flagSet(f, "host") {
		body["host"] = *host
	}
	if len(body) == 0 && !flagSet(f, "script") {
		return usagef(`nothing to change: give "METHOD /path", --script or --host`)
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if flagSet(f, "script") {
		// Names are resolved in the route's own app.
		var cur routeT
		if err := c.do(ctx, http.MethodGet, "/routes/"+url.PathEscape(f.arg(0)), nil, nil, &cur); err != nil {
			return err
		}
		ref := *appRef
		if !flagSet(f, "app") && r.env.Getenv("PICLOUD_APP") == "" {
			ref = cur.AppID
		}
		s, err := resolveScript(ctx, c, ref, *script)
		if err != nil {
			return err
		}
		body["script"] = s.ID
	}
	var rt routeT
	if err := c.do(ctx, http.MethodPatch, "/routes/"+url.PathEscape(f.arg(0)), nil, body, &rt); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "route_conflict" {
			ae.hint = "another route of the app holds that shape; see `picloud routes ls`"
		}
		return err
	}
	if r.json {
		return r.out.emit(rt)
	}
	r.out.printf("Route %s is now %s %s%s → %s.\n", rt.ID, rt.Method, rt.Host, rt.Path, orDash(rt.Script))
	return nil
}
