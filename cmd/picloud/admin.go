package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/picloud/picloud/node"
)

const adminUsage = `usage: picloud admin reset-password [--password-stdin] <user>

Sets a new password for <user> directly in the database (the node's managed
Postgres in PICLOUD_DATA_DIR, or DATABASE_URL), reactivates the user and ends
its sessions. Stop the node first when it uses the managed Postgres. Without
--password-stdin a password is generated and printed once.
`

// runAdmin runs `picloud admin ...`: recovery commands that work on the
// database without the API.
func runAdmin(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	args = args[1:]
	fromStdin := len(args) > 0 && args[0] == "--password-stdin"
	if fromStdin {
		args = args[1:]
	}
	if len(args) != 1 || args[0] == "" {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	user := args[0]
	var password string
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(stderr, "picloud: reading the password: %v\n", err)
			return 1
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password = strings.ToLower(rand.Text())[:20]
	}
	cfg, err := node.Defaults(adminMode()).FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "picloud: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := node.ResetPassword(context.Background(), cfg, log, user, password); err != nil {
		fmt.Fprintf(stderr, "picloud: reset-password: %v\n", err)
		return 1
	}
	if fromStdin {
		fmt.Fprintf(stdout, "Password of %q reset; its sessions were ended.\n", user)
	} else {
		fmt.Fprintf(stdout, "Password of %q reset to %q (shown once); its sessions were ended.\n", user, password)
	}
	return 0
}

// adminMode picks whose data directory an admin command uses when
// PICLOUD_DATA_DIR is not set: a dev node's ./.picloud if there is one,
// else the agent's.
func adminMode() node.Mode {
	if st, err := os.Stat(node.Defaults(node.ModeDev).DataDir); err == nil && st.IsDir() {
		return node.ModeDev
	}
	return node.ModeAgent
}
