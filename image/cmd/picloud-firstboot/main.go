// Command picloud-firstboot runs once at a PiCloud node's first boot (from
// picloud-firstboot.service, before the agent, SSH and the network): it grows
// the root filesystem, creates SSH host keys and the node identity, and
// applies picloud.toml and cloud-init NoCloud files from the boot partition.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/picloud/picloud/image/firstboot"
)

type execRunner struct{}

func (execRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

func main() {
	root := flag.String("root", "/", "root filesystem to configure")
	boot := flag.String("boot", "/boot/firmware", "boot partition (inside root)")
	state := flag.String("state", "/var/lib/picloud", "agent state directory (inside root)")
	offline := flag.Bool("offline", false, "do not grow partitions, set the kernel hostname or start units")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a := &firstboot.Applier{
		Log: log, Run: execRunner{},
		Root: *root, Boot: *boot, State: *state,
		Live: !*offline && *root == "/",
	}
	if err := a.Apply(ctx); err != nil {
		log.Error("first boot failed; it runs again at the next boot", "err", err)
		fmt.Fprintln(os.Stderr, "picloud-firstboot:", err)
		os.Exit(1)
	}
	log.Info("first boot complete")
}
