package manager

import (
	"context"
	"fmt"
	"time"
)

// WatchChanges calls onChange with the payload of every committed
// control-plane change until ctx ends. After a lost connection it
// reconnects and calls onChange("*"), since changes may have been missed.
func (m *Manager) WatchChanges(ctx context.Context, onChange func(what string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := m.listen(ctx, onChange)
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("change listener lost its connection", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		onChange("*")
	}
}

func (m *Manager) listen(ctx context.Context, onChange func(string)) error {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring listener connection: %w", err)
	}
	// A connection that was LISTENing must not go back to the pool.
	c := conn.Hijack()
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for notification: %w", err)
		}
		onChange(n.Payload)
	}
}
