package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Shapes of the admin API the CLI reads. Unknown fields are ignored so a
// newer server does not break an older CLI.
type (
	app struct {
		ID           string    `json:"id"`
		Slug         string    `json:"slug"`
		Name         string    `json:"name"`
		CreatedAt    time.Time `json:"created_at"`
		LogRetention struct {
			Executions *int    `json:"executions"`
			Lines      *int    `json:"lines"`
			Age        *string `json:"age"`
		} `json:"log_retention"`
	}
	script struct {
		ID       string `json:"id"`
		AppID    string `json:"app_id"`
		App      string `json:"app"`
		Name     string `json:"name"`
		Version  int    `json:"version"`
		Language string `json:"language"`
		Hash     string `json:"hash"`
	}
	deployed struct {
		ID      string `json:"id"`
		App     string `json:"app"`
		Name    string `json:"name"`
		Version int    `json:"version"`
		Hash    string `json:"hash"`
		Created bool   `json:"created"`
	}
	version struct {
		Version   int       `json:"version"`
		Language  string    `json:"language"`
		Hash      string    `json:"hash"`
		Author    string    `json:"author"`
		Message   string    `json:"message"`
		CreatedAt time.Time `json:"created_at"`
		Current   bool      `json:"current"`
	}
	routeT struct {
		ID       string `json:"id"`
		AppID    string `json:"app_id"`
		ScriptID string `json:"script_id"`
		Script   string `json:"script"`
		Method   string `json:"method"`
		Host     string `json:"host"`
		Path     string `json:"path"`
		Dispatch string `json:"dispatch"`
	}
	domain struct {
		ID      string `json:"id"`
		Pattern string `json:"pattern"`
	}
	apiKey struct {
		ID         string     `json:"id"`
		Name       string     `json:"name"`
		Prefix     string     `json:"prefix"`
		Scopes     []string   `json:"scopes"`
		AppID      string     `json:"app_id"`
		ExpiresAt  *time.Time `json:"expires_at"`
		LastUsedAt *time.Time `json:"last_used_at"`
		CreatedAt  time.Time  `json:"created_at"`
		Key        string     `json:"key"`
	}
	me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
		Auth     string `json:"auth"`
		Apps     []struct {
			AppID string `json:"app_id"`
			Role  string `json:"role"`
		} `json:"apps"`
	}
	logLine struct {
		Time    time.Time `json:"time"`
		Level   string    `json:"level"`
		Message string    `json:"message"`
	}
	execution struct {
		Seq        int64     `json:"seq"`
		ID         string    `json:"id"`
		RequestID  string    `json:"request_id"`
		App        string    `json:"app"`
		ScriptID   string    `json:"script_id"`
		Script     string    `json:"script"`
		Version    int       `json:"version"`
		Method     string    `json:"method"`
		Path       string    `json:"path"`
		Status     int       `json:"status"`
		Outcome    string    `json:"outcome"`
		Error      string    `json:"error"`
		DurationMS float64   `json:"duration_ms"`
		StartedAt  time.Time `json:"started_at"`
		Logs       []logLine `json:"logs"`
	}
)

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// appFlag adds --app, defaulting to PICLOUD_APP, then "default".
func (r *runner) appFlag(f *flags) *string {
	def := r.env.Getenv("PICLOUD_APP")
	if def == "" {
		def = "default"
	}
	return f.String("app", def, "app slug or id (default $PICLOUD_APP or \"default\")")
}

// resolveScript finds a script by id, or by name in app.
func resolveScript(ctx context.Context, c *client, appRef, ref string) (script, error) {
	var s script
	if uuidRe.MatchString(ref) {
		err := c.do(ctx, http.MethodGet, "/scripts/"+ref, nil, nil, &s)
		return s, err
	}
	var list struct {
		Scripts []script `json:"scripts"`
	}
	if err := c.do(ctx, http.MethodGet, "/scripts", url.Values{"app": {appRef}}, nil, &list); err != nil {
		return s, err
	}
	for _, s := range list.Scripts {
		if s.Name == ref {
			return s, nil
		}
	}
	return s, fmt.Errorf("%w: no script %q in app %q (see `picloud scripts ls --app %s`)", errNotFound, ref, appRef, appRef)
}

func cmdLogin(ctx context.Context, r *runner, args []string) error {
	f := newFlags("login")
	user := f.String("username", r.env.Getenv("PICLOUD_USERNAME"), "username")
	pwStdin := f.Bool("password-stdin", false, "read the password from stdin")
	tokStdin := f.Bool("token-stdin", false, "read a token or API key from stdin")
	if err := f.parse(args, 0, 1); err != nil {
		return err
	}
	if *pwStdin && *tokStdin {
		return usagef("--password-stdin and --token-stdin exclude each other")
	}
	target, err := r.env.target(r.url)
	if err != nil {
		return err
	}
	base := target.URL
	if u := f.arg(0); u != "" {
		base = u
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return usagef("URL %q must start with http:// or https://", base)
	}
	base = strings.TrimRight(base, "/")
	var token string
	switch {
	case *tokStdin:
		if token, err = readLine(r.env.Stdin); err != nil || token == "" {
			return usagef("--token-stdin: no token on stdin")
		}
	case *user == "" && r.env.Getenv("PICLOUD_TOKEN") != "" && !*pwStdin:
		token = r.env.Getenv("PICLOUD_TOKEN")
	default:
		if *user == "" {
			if !r.env.IsTerminal() {
				return usagef("give --username (and the password with --password-stdin), or a token with --token-stdin")
			}
			fmt.Fprint(r.env.Stderr, "Username: ")
			if *user, err = readLine(r.env.Stdin); err != nil {
				return err
			}
		}
		var pw string
		switch {
		case *pwStdin:
			pw, err = readLine(r.env.Stdin)
		case r.env.Getenv("PICLOUD_PASSWORD") != "":
			pw = r.env.Getenv("PICLOUD_PASSWORD")
		case r.env.IsTerminal():
			fmt.Fprint(r.env.Stderr, "Password: ")
			pw, err = r.env.ReadPassword()
			fmt.Fprintln(r.env.Stderr)
		default:
			return usagef("no password: pipe it with --password-stdin or set PICLOUD_PASSWORD")
		}
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		var s struct {
			Token string `json:"token"`
		}
		if err := newClient(base, "").do(ctx, http.MethodPost, "/auth/login", nil,
			map[string]string{"username": *user, "password": pw}, &s); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				ae.hint = "check the username and password (picloud dev printed them at its first start)"
			}
			return err
		}
		token = s.Token
	}
	c := newClient(base, token)
	var who me
	if err := c.do(ctx, http.MethodGet, "/auth/me", nil, nil, &who); err != nil {
		return err
	}
	path, err := r.env.saveCredentials(credentials{URL: base, Token: token, Username: who.Username})
	if err != nil {
		return err
	}
	if r.json {
		return r.out.emit(map[string]any{"url": base, "username": who.Username, "role": who.Role, "credentials": path})
	}
	r.out.printf("Logged in to %s as %s (%s).\nCredentials stored in %s\n", base, who.Username, who.Role, path)
	return nil
}

func readLine(in io.Reader) (string, error) {
	s, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

func cmdLogout(ctx context.Context, r *runner, args []string) error {
	f := newFlags("logout")
	if err := f.parse(args, 0, 0); err != nil {
		return err
	}
	creds, err := r.env.loadCredentials()
	if err != nil {
		return err
	}
	if creds.Token != "" {
		// Best effort: the token is forgotten locally either way.
		_ = newClient(creds.URL, creds.Token).do(ctx, http.MethodPost, "/auth/logout", nil, nil, nil)
	}
	if err := r.env.removeCredentials(); err != nil {
		return err
	}
	if r.env.Getenv("PICLOUD_TOKEN") != "" {
		fmt.Fprintln(r.env.Stderr, "note: PICLOUD_TOKEN is set and still used by every command")
	}
	if !r.json {
		r.out.printf("Logged out.\n")
	}
	return nil
}

func cmdWhoami(ctx context.Context, r *runner, args []string) error {
	f := newFlags("whoami")
	if err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/auth/me", nil, nil, &raw); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(raw)
	}
	var who me
	_ = json.Unmarshal(raw, &who)
	via := ""
	if who.Auth == "key" {
		via = " via an API key"
	}
	r.out.printf("%s (%s) on %s%s\n", who.Username, who.Role, c.base, via)
	if who.Role == "member" {
		// A member acts only through its app roles: name them.
		var list struct {
			Apps []app `json:"apps"`
		}
		slugs := map[string]string{}
		if c.do(ctx, http.MethodGet, "/apps", nil, nil, &list) == nil {
			for _, a := range list.Apps {
				slugs[a.ID] = a.Slug
			}
		}
		var roles []string
		for _, a := range who.Apps {
			name := slugs[a.AppID]
			if name == "" {
				name = a.AppID
			}
			roles = append(roles, name+" ("+a.Role+")")
		}
		sort.Strings(roles)
		if len(roles) == 0 {
			r.out.printf("no app roles yet: an owner or admin gives them with `picloud members set %s ROLE --app APP`\n", who.Username)
		} else {
			r.out.printf("apps: %s\n", strings.Join(roles, ", "))
		}
	}
	return nil
}

func cmdApps(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls, show, create, set, rename or rm")
	}
	sub, args := args[0], args[1:]
	f := newFlags("apps " + sub)
	switch sub {
	case "show", "get":
		return appShow(ctx, r, f, args)
	case "set", "rename":
		return appSet(ctx, r, f, sub, args)
	case "ls", "list":
		if err := f.parse(args, 0, 0); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		var out struct {
			Apps []app `json:"apps"`
		}
		if err := c.do(ctx, http.MethodGet, "/apps", nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Apps)
		}
		var rows [][]string
		now := time.Now()
		for _, a := range out.Apps {
			rows = append(rows, []string{a.Slug, a.Name, a.ID, ago(a.CreatedAt, now)})
		}
		r.out.table("No apps. Create one with `picloud apps create SLUG`.", []string{"SLUG", "NAME", "ID", "CREATED"}, rows)
		return nil
	case "create":
		name := f.String("name", "", "display name (default: the slug)")
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		var a app
		if err := c.do(ctx, http.MethodPost, "/apps", nil, map[string]string{"slug": f.arg(0), "name": *name}, &a); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(a)
		}
		r.out.printf("Created app %s (%s).\n", a.Slug, a.ID)
		return nil
	case "rm", "delete":
		force := f.Bool("force", false, "also delete the app's scripts, routes and data")
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		q := url.Values{}
		if *force {
			q.Set("force", "true")
		}
		err = c.do(ctx, http.MethodDelete, "/apps/"+url.PathEscape(f.arg(0)), q, nil, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict && !*force {
			ae.hint = "the app still has scripts; delete them first, or add --force to delete everything in it"
		}
		if err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": f.arg(0)})
		}
		r.out.printf("Deleted app %s.\n", f.arg(0))
		return nil
	}
	return usagef("unknown subcommand %q: ls, show, create, set, rename or rm", sub)
}

func cmdScripts(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show", "get", "source", "rm", "delete":
			return scriptCmd(ctx, r, args[0], args[1:])
		}
	}
	if len(args) == 0 || (args[0] != "ls" && args[0] != "list") {
		return usagef("missing or unknown subcommand: ls, show, source or rm")
	}
	f := newFlags("scripts ls")
	appRef := r.appFlag(f)
	if err := f.parse(args[1:], 0, 0); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var out struct {
		Scripts []script `json:"scripts"`
	}
	if err := c.do(ctx, http.MethodGet, "/scripts", url.Values{"app": {*appRef}}, nil, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(out.Scripts)
	}
	var rows [][]string
	for _, s := range out.Scripts {
		rows = append(rows, []string{s.Name, strconv.Itoa(s.Version), s.Language, s.ID})
	}
	r.out.table(fmt.Sprintf("No scripts in app %s. Deploy one with `picloud deploy FILE --app %s`.", *appRef, *appRef),
		[]string{"NAME", "VERSION", "LANGUAGE", "ID"}, rows)
	return nil
}

// languageOf infers a script's language from its file name.
func languageOf(file string) (string, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".js", ".mjs", ".cjs", ".jsx":
		return "javascript", nil
	case ".ts", ".mts", ".cts", ".tsx":
		return "typescript", nil
	}
	return "", usagef("cannot tell the language of %s from its extension: name it .js or .ts", file)
}

var nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// nameOf derives a script name from a file name: "hello-world.ts" →
// "hello-world".
func nameOf(file string) string {
	base := filepath.Base(file)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	base = strings.Trim(nameUnsafe.ReplaceAllString(base, "-"), "-._")
	if len(base) > 128 {
		base = base[:128]
	}
	return base
}

// parseRouteSpec reads "GET /path", "* /path" or "/path" (any method).
func parseRouteSpec(spec string) (method, path string, err error) {
	fields := strings.Fields(spec)
	switch len(fields) {
	case 1:
		method, path = "*", fields[0]
	case 2:
		method, path = strings.ToUpper(fields[0]), fields[1]
	default:
		return "", "", usagef("route %q must look like \"GET /path\" or \"/path\"", spec)
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", usagef("route path %q must start with /", path)
	}
	return method, path, nil
}

func cmdDeploy(ctx context.Context, r *runner, args []string) error {
	f := newFlags("deploy")
	appRef := r.appFlag(f)
	name := f.String("name", "", "script name (default: the file name without extension)")
	routeSpec := f.String("route", "", `bind a route, e.g. "GET /hello" or "/hello" for any method`)
	host := f.String("host", "", "host of the route (default: any)")
	msg := f.String("message", "", "a note stored with this version")
	bindingsArg := f.String("bindings", "", `the version's env bindings as JSON or @FILE, e.g. '{"STORE": {"type": "kv", "namespace": "store"}}' (default: keep the current ones)`)
	limitsArg := f.String("limits", "", `sandbox overrides as JSON or @FILE, e.g. '{"cpu_time_ms": 2000}' (default: keep the current ones; '{}' resets)`)
	if err := f.parse(args, 1, 1); err != nil {
		return err
	}
	file := f.arg(0)
	bindings, err := r.jsonArg("bindings", *bindingsArg)
	if err != nil {
		return err
	}
	lims, err := r.jsonArg("limits", *limitsArg)
	if err != nil {
		return err
	}
	lang, err := languageOf(file)
	if err != nil {
		return err
	}
	if *name == "" {
		if *name = nameOf(file); *name == "" {
			return usagef("cannot derive a script name from %s: give --name", file)
		}
	}
	var method, path string
	if *routeSpec != "" {
		if method, path, err = parseRouteSpec(*routeSpec); err != nil {
			return err
		}
	}
	src, err := r.readAllFile(file)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	in := map[string]any{"app": *appRef, "name": *name, "source": string(src), "language": lang, "message": *msg}
	if bindings != nil {
		in["bindings"] = bindings
	}
	if lims != nil {
		in["limits"] = lims
	}
	var d deployed
	if err := c.do(ctx, http.MethodPost, "/scripts", nil, in, &d); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "syntax_error" {
			ae.Message = file + ": " + ae.Message
		}
		if errors.As(err, &ae) && (ae.Code == "limit_above_ceiling" || ae.Code == "unknown_limit") {
			ae.hint = "see the knobs and the node's ceilings in docs/runtime-isolation.md; an admin raises ceilings with PICLOUD_LIMIT_CEILINGS"
		}
		return err
	}
	var bound *routeT
	if method != "" {
		rt, err := ensureRoute(ctx, c, *appRef, d.ID, method, *host, path)
		if err != nil {
			return fmt.Errorf("deployed %s/%s version %d (id %s), but binding the route failed: %w", d.App, d.Name, d.Version, d.ID, err)
		}
		bound = &rt
	}
	urls := scriptURLs(ctx, c, *appRef, d.ID)
	if r.json {
		return r.out.emit(map[string]any{"id": d.ID, "app": d.App, "name": d.Name, "version": d.Version,
			"hash": d.Hash, "created": d.Created, "route": bound, "urls": urls})
	}
	verb := "Updated"
	if d.Created {
		verb = "Created"
	}
	r.out.printf("%s %s/%s, version %d.\n", verb, d.App, d.Name, d.Version)
	for _, u := range urls {
		r.out.printf("  %s\n", u)
	}
	return nil
}

// ensureRoute binds method+host+path to the script unless that exact
// route already exists (a re-deploy with the same --route).
func ensureRoute(ctx context.Context, c *client, appRef, scriptID, method, host, path string) (routeT, error) {
	var rt routeT
	err := c.do(ctx, http.MethodPost, "/routes", nil, map[string]string{
		"app": appRef, "script": scriptID, "method": method, "host": host, "path": path,
	}, &rt)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		routes, lerr := listRoutes(ctx, c, appRef)
		if lerr == nil {
			for _, x := range routes {
				if x.ScriptID == scriptID && strings.EqualFold(x.Method, method) && x.Path == path && x.Host == host {
					return x, nil
				}
			}
		}
		ae.hint = "another route holds that method and path; see `picloud routes ls --app " + appRef + "`"
	}
	return rt, err
}

func listRoutes(ctx context.Context, c *client, appRef string) ([]routeT, error) {
	var out struct {
		Routes []routeT `json:"routes"`
	}
	err := c.do(ctx, http.MethodGet, "/routes", url.Values{"app": {appRef}}, nil, &out)
	return out.Routes, err
}

// scriptURLs lists where a script answers: its routes, on the app's first
// exact domain claim (routes answer only on hosts their app claims), and
// its execute URL, which works on any host.
func scriptURLs(ctx context.Context, c *client, appRef, id string) []string {
	var urls []string
	routes, err := listRoutes(ctx, c, appRef)
	base, perr := url.Parse(c.base)
	if err == nil && perr == nil {
		withPort := func(h string) string {
			if p := base.Port(); p != "" {
				return h + ":" + p
			}
			return h
		}
		host, claimed := "", false
		var ds struct {
			Domains []domain `json:"domains"`
		}
		if c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(appRef)+"/domains", nil, nil, &ds) == nil {
			for _, d := range ds.Domains {
				claimed = true
				if !strings.ContainsAny(d.Pattern, "*{") {
					host = withPort(d.Pattern)
					break
				}
			}
		}
		for _, rt := range routes {
			if rt.ScriptID != id {
				continue
			}
			h := host
			if rt.Host != "" && !strings.ContainsAny(rt.Host, "*{") {
				h = withPort(rt.Host)
			}
			m := rt.Method
			if m == "*" || m == "" {
				m = "ANY"
			}
			switch {
			case h != "":
				urls = append(urls, fmt.Sprintf("%-6s %s://%s%s", m, base.Scheme, h, rt.Path))
			case claimed:
				urls = append(urls, fmt.Sprintf("%-6s %s (on the hosts app %s claims)", m, rt.Path, appRef))
			default:
				urls = append(urls, fmt.Sprintf("%-6s %s (app %s claims no domain yet, so its routes answer nowhere)", m, rt.Path, appRef))
			}
		}
	}
	return append(urls, fmt.Sprintf("%-6s %s/api/v1/execute/%s", "ANY", c.base, id))
}

func cmdVersions(ctx context.Context, r *runner, args []string) error {
	f := newFlags("versions")
	appRef := r.appFlag(f)
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
	var out struct {
		Versions []version `json:"versions"`
	}
	if err := c.do(ctx, http.MethodGet, "/scripts/"+s.ID+"/versions", nil, nil, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(out.Versions)
	}
	var rows [][]string
	now := time.Now()
	sort.Slice(out.Versions, func(i, j int) bool { return out.Versions[i].Version > out.Versions[j].Version })
	for _, v := range out.Versions {
		cur := ""
		if v.Current {
			cur = "*"
		}
		hash := v.Hash
		if len(hash) > 12 {
			hash = hash[:12]
		}
		rows = append(rows, []string{cur + strconv.Itoa(v.Version), ago(v.CreatedAt, now), orDash(v.Author), hash, v.Message})
	}
	r.out.table("No versions.", []string{"VERSION", "CREATED", "AUTHOR", "HASH", "MESSAGE"}, rows)
	return nil
}

func cmdRollback(ctx context.Context, r *runner, args []string) error {
	f := newFlags("rollback")
	appRef := r.appFlag(f)
	if err := f.parse(args, 2, 2); err != nil {
		return err
	}
	v, err := strconv.Atoi(strings.TrimPrefix(f.arg(1), "v"))
	if err != nil || v < 1 {
		return usagef("version %q is not a version number (see `picloud versions %s`)", f.arg(1), f.arg(0))
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	s, err := resolveScript(ctx, c, *appRef, f.arg(0))
	if err != nil {
		return err
	}
	var after script
	if err := c.do(ctx, http.MethodPost, "/scripts/"+s.ID+"/rollback", nil, map[string]int{"version": v}, &after); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(after)
	}
	r.out.printf("%s/%s now runs version %d (was %d).\n", s.App, s.Name, v, s.Version)
	return nil
}

func cmdInvoke(ctx context.Context, r *runner, args []string) error {
	f := newFlags("invoke")
	appRef := r.appFlag(f)
	method := f.String("X", "", "HTTP method (default GET, or POST with -d)")
	data := f.String("d", "", "request body, or @FILE to read it from a file (@- for stdin)")
	include := f.Bool("i", false, "print the status line and headers too")
	var headers multiFlag
	f.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	if err := f.parse(args, 1, 1); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	id := f.arg(0)
	if !uuidRe.MatchString(id) {
		s, err := resolveScript(ctx, c, *appRef, id)
		if err != nil {
			return err
		}
		id = s.ID
	}
	var body []byte
	if strings.HasPrefix(*data, "@") {
		if body, err = r.readAllFile(strings.TrimPrefix(*data, "@")); err != nil {
			return err
		}
	} else if *data != "" {
		body = []byte(*data)
	}
	m := strings.ToUpper(*method)
	if m == "" {
		m = http.MethodGet
		if body != nil {
			m = http.MethodPost
		}
	}
	h := http.Header{}
	for _, hv := range headers {
		k, v, ok := strings.Cut(hv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return usagef("header %q must look like 'Name: value'", hv)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var in any
	if body != nil {
		in = body
	}
	resp, err := c.send(ctx, m, "/api/v1/execute/"+id, nil, in, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if r.json {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return c.unreachable(err)
		}
		out := map[string]any{"status": resp.StatusCode, "headers": resp.Header, "body": string(b)}
		if err := r.out.emit(out); err != nil {
			return err
		}
	} else {
		if *include {
			r.out.printf("%s %s\n", resp.Proto, resp.Status)
			_ = resp.Header.Write(r.out.w)
			r.out.printf("\n")
		}
		if _, err := io.Copy(r.out.w, resp.Body); err != nil {
			return c.unreachable(err)
		}
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("the script answered %s (see `picloud logs %s -f` for its console output)", resp.Status, f.arg(0))
	}
	return nil
}

func cmdRoutes(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls, add, set, rm, check or match")
	}
	sub, args := args[0], args[1:]
	f := newFlags("routes " + sub)
	appRef := r.appFlag(f)
	switch sub {
	case "check":
		return routeCheck(ctx, r, f, appRef, args)
	case "match":
		return routeMatch(ctx, r, f, appRef, args)
	case "set", "update":
		return routeSet(ctx, r, f, appRef, args)
	case "ls", "list":
		if err := f.parse(args, 0, 0); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		routes, err := listRoutes(ctx, c, *appRef)
		if err != nil {
			return err
		}
		if r.json {
			return r.out.emit(routes)
		}
		var rows [][]string
		for _, rt := range routes {
			rows = append(rows, []string{rt.Method, orDash(rt.Host), rt.Path, orDash(rt.Script), rt.ID})
		}
		r.out.table(fmt.Sprintf("No routes in app %s. Add one with `picloud routes add SCRIPT \"GET /path\" --app %s`.", *appRef, *appRef),
			[]string{"METHOD", "HOST", "PATH", "SCRIPT", "ID"}, rows)
		return nil
	case "add":
		host := f.String("host", "", "host the route answers on (default: any)")
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
		s, err := resolveScript(ctx, c, *appRef, f.arg(0))
		if err != nil {
			return err
		}
		var rt routeT
		if err := c.do(ctx, http.MethodPost, "/routes", nil, map[string]string{
			"app": *appRef, "script": s.ID, "method": method, "host": *host, "path": path,
		}, &rt); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(rt)
		}
		r.out.printf("Added route %s %s%s → %s (%s).\n", rt.Method, rt.Host, rt.Path, s.Name, rt.ID)
		return nil
	case "rm", "delete":
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodDelete, "/routes/"+url.PathEscape(f.arg(0)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": f.arg(0)})
		}
		r.out.printf("Removed route %s.\n", f.arg(0))
		return nil
	}
	return usagef("unknown subcommand %q: ls, add, set, rm, check or match", sub)
}

func cmdKeys(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: create, ls or rm")
	}
	sub, args := args[0], args[1:]
	f := newFlags("keys " + sub)
	switch sub {
	case "create":
		var scopes multiFlag
		f.Var(&scopes, "scope", "scope: app:read, script:read, script:write, logs:read, app:admin, instance:* (repeatable)")
		appRef := f.String("app", "", "bind the key to one app")
		expires := f.String("expires", "", "lifetime, e.g. 720h (default: never)")
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		if len(scopes) == 0 {
			return usagef("give at least one --scope (e.g. --scope script:write)")
		}
		var all []string
		for _, s := range scopes {
			all = append(all, strings.Split(s, ",")...)
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		in := map[string]any{"name": f.arg(0), "scopes": all}
		if *appRef != "" {
			in["app"] = *appRef
		}
		if *expires != "" {
			in["expires_in"] = *expires
		}
		var k apiKey
		if err := c.do(ctx, http.MethodPost, "/keys", nil, in, &k); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(k)
		}
		r.out.printf("Created key %s (%s).\n\n  %s\n\nIt is shown only now: store it in a secret manager. Use it as PICLOUD_TOKEN.\n", k.Name, k.ID, k.Key)
		return nil
	case "ls", "list":
		if err := f.parse(args, 0, 0); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		var out struct {
			Keys []apiKey `json:"keys"`
		}
		if err := c.do(ctx, http.MethodGet, "/keys", nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Keys)
		}
		var rows [][]string
		now := time.Now()
		for _, k := range out.Keys {
			exp, used := "never", "never"
			if k.ExpiresAt != nil {
				exp = k.ExpiresAt.Local().Format("2006-01-02 15:04")
			}
			if k.LastUsedAt != nil {
				used = ago(*k.LastUsedAt, now)
			}
			rows = append(rows, []string{k.Name, k.Prefix, strings.Join(k.Scopes, ","), orDash(k.AppID), exp, used, k.ID})
		}
		r.out.table("No API keys. Create one with `picloud keys create NAME --scope script:write`.",
			[]string{"NAME", "PREFIX", "SCOPES", "APP", "EXPIRES", "LAST USED", "ID"}, rows)
		return nil
	case "rm", "revoke", "delete":
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodDelete, "/keys/"+url.PathEscape(f.arg(0)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": f.arg(0)})
		}
		r.out.printf("Revoked key %s.\n", f.arg(0))
		return nil
	}
	return usagef("unknown subcommand %q: create, ls or rm", sub)
}
