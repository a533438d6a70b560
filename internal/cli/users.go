package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type (
	userT struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
		Active   bool   `json:"active"`
	}
	memberT struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
		Role     string `json:"role"`
	}
)

// subcommand splits args into a known subcommand (aliases mapped to their
// canonical name) and the rest.
func subcommand(args []string, names map[string]string, list string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef("missing subcommand: %s", list)
	}
	sub, ok := names[args[0]]
	if !ok {
		return "", nil, usagef("unknown subcommand %q: %s", args[0], list)
	}
	return sub, args[1:], nil
}

// newPassword gets a password to set for someone: one line of stdin with
// --password-stdin, typed twice at a terminal, or else generated (and then
// printed once by the caller).
func (r *runner) newPassword(fromStdin bool) (pw string, generated bool, err error) {
	switch {
	case fromStdin:
		if pw, err = readLine(r.env.Stdin); err != nil {
			return "", false, fmt.Errorf("reading the password: %w", err)
		}
		if pw == "" {
			return "", false, usagef("--password-stdin: no password on stdin")
		}
		return pw, false, nil
	case r.env.IsTerminal():
		pw, err = r.prompt("New password: ")
		if err != nil {
			return "", false, err
		}
		again, err := r.prompt("Repeat it: ")
		if err != nil {
			return "", false, err
		}
		if pw != again {
			return "", false, usagef("the two passwords differ")
		}
		return pw, false, nil
	}
	return strings.ToLower(rand.Text())[:20], true, nil
}

// prompt reads a secret from the terminal without echo.
func (r *runner) prompt(label string) (string, error) {
	fmt.Fprint(r.env.Stderr, label)
	pw, err := r.env.ReadPassword()
	fmt.Fprintln(r.env.Stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return pw, nil
}

// roleHint explains invalid_role answers.
func roleHint(err error, hint string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "invalid_role" {
		ae.hint = hint
	}
	return err
}

func activeWord(u userT) string {
	if u.Active {
		return "active"
	}
	return "deactivated"
}

// cmdUsers manages the instance's users (owners and admins only).
func cmdUsers(ctx context.Context, r *runner, args []string) error {
	sub, args, err := subcommand(args, map[string]string{
		"ls": "ls", "list": "ls", "show": "show", "get": "show", "create": "create", "add": "create",
		"set": "set", "deactivate": "deactivate", "disable": "deactivate", "activate": "activate",
		"reactivate": "activate", "enable": "activate", "rm": "rm", "delete": "rm", "passwd": "passwd",
		"set-password": "passwd",
	}, "ls, show, create, set, deactivate, activate, passwd or rm")
	if err != nil {
		return err
	}
	f := newFlags("users " + sub)
	var (
		role, active *string
		pwStdin      *bool
	)
	nArgs := 1
	switch sub {
	case "ls":
		nArgs = 0
	case "create":
		role = f.String("role", "member", "instance role: owner, admin or member")
		pwStdin = f.Bool("password-stdin", false, "read the password from stdin (default: prompt, or generate one)")
	case "set":
		role = f.String("role", "", "new instance role: owner, admin or member")
		active = f.String("active", "", "true to reactivate, false to deactivate")
	case "passwd":
		pwStdin = f.Bool("password-stdin", false, "read the new password from stdin (default: prompt, or generate one)")
	}
	if err := f.parse(args, nArgs, nArgs); err != nil {
		return err
	}
	who := f.arg(0)
	var body map[string]any
	switch sub {
	case "set":
		body = map[string]any{}
		if *role != "" {
			body["role"] = *role
		}
		if *active != "" {
			b, err := strconv.ParseBool(*active)
			if err != nil {
				return usagef("--active must be true or false")
			}
			body["active"] = b
		}
		if len(body) == 0 {
			return usagef("nothing to change: give --role or --active")
		}
	case "deactivate":
		body = map[string]any{"active": false}
	case "activate":
		body = map[string]any{"active": true}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var pw string
	var generated bool
	if sub == "create" || sub == "passwd" {
		if pw, generated, err = r.newPassword(*pwStdin); err != nil {
			return err
		}
	}
	path := "/users/" + url.PathEscape(who)
	switch sub {
	case "ls":
		var out struct {
			Users []userT `json:"users"`
		}
		if err := c.do(ctx, http.MethodGet, "/users", nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Users)
		}
		var rows [][]string
		for _, u := range out.Users {
			rows = append(rows, []string{u.Username, u.Role, activeWord(u), u.ID})
		}
		r.out.table("No users.", []string{"USERNAME", "ROLE", "STATUS", "ID"}, rows)
		return nil
	case "show":
		var u userT
		if err := c.do(ctx, http.MethodGet, path, nil, nil, &u); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(u)
		}
		r.out.printf("%s (%s, %s)\n  id: %s\n", u.Username, u.Role, activeWord(u), u.ID)
		return nil
	case "create":
		var u userT
		err := c.do(ctx, http.MethodPost, "/users", nil, map[string]any{"username": who, "password": pw, "role": *role}, &u)
		if err != nil {
			return roleHint(err, "instance roles are owner, admin and member; app roles are given with `picloud members set`")
		}
		if r.json {
			out := map[string]any{"id": u.ID, "username": u.Username, "role": u.Role, "active": u.Active}
			if generated {
				out["password"] = pw
			}
			return r.out.emit(out)
		}
		r.out.printf("Created user %s (%s, %s).\n", u.Username, u.Role, u.ID)
		if generated {
			r.out.printf("\n  password: %s\n\nIt is shown only now. Give it to %s; they can change it with `picloud passwd`.\n", pw, u.Username)
		}
		if u.Role == "member" {
			r.out.printf("A member sees no app until given a role on one: `picloud members set %s editor --app APP`.\n", u.Username)
		}
		return nil
	case "set", "deactivate", "activate":
		var u userT
		if err := c.do(ctx, http.MethodPatch, path, nil, body, &u); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Code == "last_owner" {
				ae.hint = "make another user owner first: `picloud users set NAME --role owner`"
			}
			return roleHint(err, "instance roles are owner, admin and member")
		}
		if r.json {
			return r.out.emit(u)
		}
		r.out.printf("User %s is now %s, %s.\n", u.Username, u.Role, activeWord(u))
		if sub == "deactivate" || body["active"] == false {
			r.out.printf("Its sessions were ended and its API keys revoked; reactivating does not bring them back.\n")
		}
		return nil
	case "passwd":
		if err := c.do(ctx, http.MethodPut, path+"/password", nil, map[string]string{"password": pw}, nil); err != nil {
			return err
		}
		if r.json {
			out := map[string]any{"username": who, "sessions_ended": true}
			if generated {
				out["password"] = pw
			}
			return r.out.emit(out)
		}
		r.out.printf("Password of %s set; its sessions were ended.\n", who)
		if generated {
			r.out.printf("\n  password: %s\n\nIt is shown only now.\n", pw)
		}
		return nil
	default: // rm
		if err := c.do(ctx, http.MethodDelete, path, nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": who})
		}
		r.out.printf("Deleted user %s with its sessions, API keys and app roles.\n", who)
		return nil
	}
}

// cmdPasswd changes the logged-in user's own password.
func cmdPasswd(ctx context.Context, r *runner, args []string) error {
	f := newFlags("passwd")
	pwStdin := f.Bool("password-stdin", false, "read two lines from stdin: the current password, then the new one")
	if err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var cur, pw string
	switch {
	case *pwStdin:
		lines, rerr := readLines(r.env.Stdin, 2)
		if rerr != nil {
			return fmt.Errorf("reading the passwords: %w", rerr)
		}
		if len(lines) != 2 || lines[0] == "" || lines[1] == "" {
			return usagef("--password-stdin: give the current password and the new one on two lines")
		}
		cur, pw = lines[0], lines[1]
	case r.env.IsTerminal():
		if cur, err = r.prompt("Current password: "); err != nil {
			return err
		}
		if pw, _, err = r.newPassword(false); err != nil {
			return err
		}
	default:
		return usagef("no terminal: pipe the current and the new password on two lines with --password-stdin")
	}
	if err := c.do(ctx, http.MethodPost, "/auth/password", nil, map[string]string{"current_password": cur, "new_password": pw}, nil); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
			ae.hint = "only a login session (or an instance:* key) may change a password: `picloud login` first"
		}
		return err
	}
	if r.json {
		return r.out.emit(map[string]any{"changed": true})
	}
	r.out.printf("Password changed. This session stays logged in; your other sessions were ended.\n")
	return nil
}

// readLines reads up to n lines from one reader (readLine would lose
// what its buffer read past the first line).
func readLines(in io.Reader, n int) ([]string, error) {
	br := bufio.NewReader(in)
	var out []string
	for range n {
		s, err := br.ReadString('\n')
		if s == "" && err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		out = append(out, strings.TrimRight(s, "\r\n"))
		if err != nil {
			break
		}
	}
	return out, nil
}

// cmdMembers manages who holds which role on an app.
func cmdMembers(ctx context.Context, r *runner, args []string) error {
	sub, args, err := subcommand(args, map[string]string{
		"ls": "ls", "list": "ls", "set": "set", "add": "set", "rm": "rm", "remove": "rm", "delete": "rm",
	}, "ls, set or rm")
	if err != nil {
		return err
	}
	f := newFlags("members " + sub)
	appRef := r.appFlag(f)
	n := map[string]int{"ls": 0, "set": 2, "rm": 1}[sub]
	if err := f.parse(args, n, n); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	base := "/apps/" + url.PathEscape(*appRef) + "/members"
	switch sub {
	case "ls":
		var out struct {
			Members []memberT `json:"members"`
		}
		if err := c.do(ctx, http.MethodGet, base, nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Members)
		}
		var rows [][]string
		for _, m := range out.Members {
			rows = append(rows, []string{m.Username, m.Role, m.UserID})
		}
		r.out.table(fmt.Sprintf("App %s has no members (owners and admins see every app). Add one with `picloud members set USER editor --app %s`.", *appRef, *appRef),
			[]string{"USERNAME", "ROLE", "USER ID"}, rows)
		return nil
	case "set":
		var m memberT
		err := c.do(ctx, http.MethodPut, base+"/"+url.PathEscape(f.arg(0)), nil, map[string]string{"role": f.arg(1)}, &m)
		if err != nil {
			return roleHint(err, "app roles are app_admin, editor and viewer")
		}
		if r.json {
			return r.out.emit(m)
		}
		r.out.printf("%s is now %s of app %s.\n", m.Username, m.Role, *appRef)
		return nil
	default:
		if err := c.do(ctx, http.MethodDelete, base+"/"+url.PathEscape(f.arg(0)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"removed": f.arg(0), "app": *appRef})
		}
		r.out.printf("%s no longer has a role on app %s.\n", f.arg(0), *appRef)
		return nil
	}
}
