// Package cli is the picloud command-line client: login, apps, scripts,
// deploy, versions, rollback, cron triggers, invoke, logs, routes, domains, members,
// users, API keys, KV and secrets. It speaks
// only HTTP to a node's admin API and imports no server package; only
// cmd/picloud imports it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Env is what the CLI reads from and writes to; tests swap it.
type Env struct {
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	Getenv    func(string) string
	ConfigDir func() (string, error)
	// IsTerminal reports whether stdin is a terminal (to prompt for a
	// password); ReadPassword reads one without echo.
	IsTerminal   func() bool
	ReadPassword func() (string, error)
}

// OSEnv is the Env of a real process.
func OSEnv() *Env {
	return &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, ConfigDir: os.UserConfigDir,
		IsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		ReadPassword: func() (string, error) {
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			return string(b), err
		},
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, r *runner, args []string) error
}

// runner carries the parsed global flags of one invocation.
type runner struct {
	env  *Env
	json bool
	url  string
	out  *output
}

// Commands is the list of client subcommands, for the top-level usage.
func Commands() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// Has reports whether name is a client subcommand.
func Has(name string) bool {
	for _, c := range commands() {
		if c.name == name {
			return true
		}
	}
	return false
}

// Usage is the client part of the top-level usage text.
func Usage() string {
	var b strings.Builder
	b.WriteString("client commands (global flags: --json, --url URL):\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString("\nexit codes: 0 ok, 1 error, 2 usage, 3 not logged in or not allowed,\n" +
		"4 not found, 5 conflict or invalid input, 6 server unreachable or failing\n")
	return b.String()
}

// Run runs the client subcommand args[0] and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, Usage())
		return exitUsage
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "picloud: unknown command %q\n", args[0])
		return exitUsage
	}
	r := &runner{env: env}
	rest, err := r.globalFlags(args[1:])
	if err == nil && len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help") {
		err = flag.ErrHelp // before any subcommand: `picloud users --help`
	}
	if err == nil {
		r.out = &output{w: env.Stdout, json: r.json}
		err = cmd.run(ctx, r, rest)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(env.Stdout, "usage: picloud %s\n", usageLines(cmd.usage))
		return exitOK
	}
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(env.Stderr, "picloud %s: %v\nusage: picloud %s\n", cmd.name, err, usageLines(cmd.usage))
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitOK // Ctrl-C ends a tail; that is how it is meant to end
	}
	fmt.Fprintf(env.Stderr, "picloud %s: %v\n", cmd.name, err)
	return exitCode(err)
}

// usageLines puts each form of a command ("a | b") on its own line.
func usageLines(u string) string {
	return strings.ReplaceAll(u, " | ", "\n       picloud ")
}

// globalFlags takes --json and --url from anywhere in args.
func (r *runner) globalFlags(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(rest, args[i:]...), nil
		case a == "--json" || a == "-json":
			r.json = true
		case a == "--url" || a == "-url":
			if i+1 >= len(args) {
				return nil, usagef("--url needs a value")
			}
			i++
			r.url = args[i]
		case strings.HasPrefix(a, "--url="):
			r.url = strings.TrimPrefix(a, "--url=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, nil
}

// client returns a client for the stored or overridden login; it fails
// with a hint when there is no token.
func (r *runner) client() (*client, error) {
	c, err := r.env.target(r.url)
	if err != nil {
		return nil, err
	}
	if c.Token == "" {
		return nil, fmt.Errorf("%w to %s: run `picloud login %s` or set PICLOUD_TOKEN", errNotLoggedIn, c.URL, c.URL)
	}
	return newClient(c.URL, c.Token), nil
}

// flags is a FlagSet that accepts flags before and after positional
// arguments, as people type them (`deploy app.js --app shop`).
type flags struct {
	*flag.FlagSet
	pos []string
}

func newFlags(name string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs}
}

// parse parses args and checks the number of positional arguments.
func (f *flags) parse(args []string, minPos, maxPos int) error {
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("%v", err)
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			f.pos = append(f.pos, args[1:]...)
			break
		}
		f.pos = append(f.pos, args[0])
		args = args[1:]
	}
	if len(f.pos) < minPos {
		return usagef("missing argument")
	}
	if maxPos >= 0 && len(f.pos) > maxPos {
		return usagef("unexpected argument %q", f.pos[maxPos])
	}
	return nil
}

func (f *flags) arg(i int) string {
	if i < len(f.pos) {
		return f.pos[i]
	}
	return ""
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func commands() []command {
	cs := []command{
		{"login", "log in to a node and store the token", "login [URL] [--username NAME] [--password-stdin | --token-stdin]", cmdLogin},
		{"logout", "end the session and forget the stored token", "logout", cmdLogout},
		{"whoami", "show who you are logged in as, and where", "whoami", cmdWhoami},
		{"apps", "list, show, create, rename or remove apps", "apps ls | apps show APP | apps create SLUG [--name NAME] | apps set APP [--slug S] [--name N] [--log-executions N] [--log-lines N] [--log-age 72h] | apps rename APP NEW_SLUG | apps rm APP [--force]", cmdApps},
		{"scripts", "list, show, print the source of or delete scripts", "scripts ls [--app APP] | scripts show SCRIPT [--version N] | scripts source SCRIPT [--version N] | scripts rm SCRIPT  (all with [--app APP])", cmdScripts},
		{"deploy", "upload a script (creates or updates it) and print its URL", `deploy FILE [--app APP] [--name NAME] [--route "GET /path"] [--host HOST] [--message MSG] [--bindings JSON|@FILE] [--limits JSON|@FILE]`, cmdDeploy},
		{"versions", "list the versions of a script", "versions SCRIPT [--app APP]", cmdVersions},
		{"rollback", "make an earlier version of a script current", "rollback SCRIPT VERSION [--app APP]", cmdRollback},
		{"crons", "list or replace a script's cron triggers (its scheduled handler)", "crons ls SCRIPT | crons set SCRIPT [--tz ZONE] [SCHEDULE]...  (no SCHEDULE removes them; all with [--app APP])", cmdCrons},
		{"invoke", "call a script and print its answer", "invoke SCRIPT [--app APP] [-X METHOD] [-d BODY|@FILE] [-H 'Name: value']... [-i]", cmdInvoke},
		{"logs", "show a script's or app's recent executions and console lines; -f to follow", "logs [SCRIPT] [--app APP] [--level L] [--outcome O] [--since 15m] [--until T] [--execution ID] [--limit N] [-f]", cmdLogs},
		{"routes", "list, add, change, remove, check or match routes", `routes ls [--app APP] | routes add SCRIPT "METHOD /path" [--host HOST] | routes set ID ["METHOD /path"] [--script S] [--host H] | routes rm ID | routes check SCRIPT "METHOD /path" [--host H] [--id ROUTE] | routes match "METHOD /path" [--host H]  (all with [--app APP])`, cmdRoutes},
		{"domains", "list, claim or release an app's domains", "domains ls [--app APP] | domains add HOST [--app APP] | domains rm HOST|ID [--app APP]", cmdDomains},
		{"members", "list, set or remove users' roles on an app", "members ls [--app APP] | members set USER app_admin|editor|viewer [--app APP] | members rm USER [--app APP]", cmdMembers},
		{"users", "manage the instance's users (owners and admins)", "users ls | users show USER | users create NAME [--role owner|admin|member] [--password-stdin] | users set USER [--role R] [--active true|false] | users deactivate USER | users activate USER | users passwd USER [--password-stdin] | users rm USER", cmdUsers},
		{"passwd", "change your own password", "passwd [--password-stdin]  (stdin: current password, then the new one)", cmdPasswd},
		{"keys", "create, list or revoke API keys", "keys create NAME --scope S [--scope S]... [--app APP] [--expires 720h] | keys ls | keys rm ID", cmdKeys},
		{"kv", "list, read, write or delete KV keys of an app", "kv ls [NAMESPACE] [--prefix P] [--app APP] | kv get NAMESPACE KEY | kv put NAMESPACE KEY [VALUE|--file F] [--ttl N|--expiration T] [--metadata JSON] | kv rm NAMESPACE KEY | kv bulk put|rm NAMESPACE FILE", cmdKV},
		{"secret", "list, set (value on stdin) or delete an app's secrets", "secret ls [--app APP] | secret put NAME [--app APP] < value | secret rm NAME [--app APP]", cmdSecret},
	}
	return cs
}

// readAllFile reads a file named on the command line, "-" for stdin.
func (r *runner) readAllFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(r.env.Stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}
