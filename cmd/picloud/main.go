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

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/node"
)

const usage = `usage: picloud <command>

commands:
  dev       run a single local node: data in ./.picloud, HTTP on 127.0.0.1:8080
  agent     run the node agent (what systemd starts on every Pi)
  version   print the version

environment: PICLOUD_BIND, PICLOUD_DATA_DIR, DATABASE_URL, PICLOUD_ADMIN_USER,
PICLOUD_ADMIN_PASSWORD, PICLOUD_MAX_CONCURRENT_EXECUTIONS, PICLOUD_LOG_LEVEL
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
	case "version", "--version":
		fmt.Fprintf(stdout, "picloud %s (api %d, sdk %s)\n", node.ProductVersion, node.APIVersion, node.SDKVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	gin.SetMode(gin.ReleaseMode)

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
