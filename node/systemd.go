package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// watchdog pings systemd's watchdog while check passes, when the unit
// asked for one (WatchdogSec=). A node whose database is gone stops
// pinging, so systemd restarts it.
func watchdog(ctx context.Context, log *slog.Logger, check func(context.Context) error) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return
	}
	t := time.NewTicker(interval / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
			return
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, interval/3)
			err := check(cctx)
			cancel()
			if err != nil {
				log.Warn("health check failed; not pinging the watchdog", "err", err)
				continue
			}
			_, _ = daemon.SdNotify(false, daemon.SdNotifyWatchdog)
		}
	}
}
