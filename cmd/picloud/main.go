// Command picloud is PiCloud's single binary: the node agent (`picloud
// agent`), a one-process local node (`picloud dev`), and the client.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/internal/cli"
	"github.com/picloud/picloud/node"
)

var usage = `usage: picloud <command>

node commands:
  dev       run a single local node: data in ./.picloud, HTTP on 127.0.0.1:8080
  agent     run the node agent (what systemd starts on every Pi)
  admin     reset-password <user>: recover an account (database access, node stopped)
  version   print the version

node environment: PICLOUD_BIND, PICLOUD_DATA_DIR, DATABASE_URL, PICLOUD_ADMIN_USER,
PICLOUD_ADMIN_PASSWORD, PICLOUD_MAX_CONCURRENT_EXECUTIONS, PICLOUD_LOG_LEVEL,
PICLOUD_LOG_RETAIN_EXECUTIONS, PICLOUD_LOG_RETAIN_LINES, PICLOUD_LOG_RETAIN_AGE,
PICLOUD_SESSION_TTL_HOURS, PICLOUD_DEBUG_BIND, GOGC, GOMEMLIMIT

` + cli.Usage() + `
client environment: PICLOUD_URL, PICLOUD_TOKEN, PICLOUD_APP (see docs/cli.md)
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "dev", "agent":
		return serve(node.Mode(args[0]), getenv, stdout, stderr)
	case "admin":
		return runAdmin(args[1:], getenv, os.Stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "picloud %s (api %d, sdk %s)\n", node.ProductVersion, node.APIVersion, node.SDKVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if cli.Has(args[0]) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		env := cli.OSEnv()
		env.Stdout, env.Stderr, env.Getenv = stdout, stderr, getenv
		return cli.Run(ctx, env, args)
	}
	fmt.Fprintf(stderr, "picloud: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(mode node.Mode, getenv func(string) string, stdout, stderr io.Writer) int {
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(getenv("PICLOUD_LOG_LEVEL"))); err != nil && getenv("PICLOUD_LOG_LEVEL") != "" {
		fmt.Fprintf(stderr, "picloud: PICLOUD_LOG_LEVEL: %v\n", err)
		return 2
	}
	logs := newLogWriter(stderr, 100*time.Millisecond)
	defer logs.Close()
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	gin.SetMode(gin.ReleaseMode)
	tuneGC(getenv, log)

	cfg, err := node.Defaults(mode).FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "picloud: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := node.Run(ctx, cfg, log, stdout); err != nil {
		log.Error("picloud stopped", "err", err)
		return 1
	}
	return 0
}
