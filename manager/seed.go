package manager

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// helloWorld is the script a fresh install answers `/` with.
const helloWorld = `// Hello World: PiCloud's first script. Edit it, or deploy your own.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    return new Response("Hello from PiCloud! You asked for " + url.pathname + "\n", {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
`

// Seed creates, on a fresh install only, the default app claiming
// localhost with a Hello World script routed at /.
func (m *Manager) Seed(ctx context.Context) error {
	var anyApp bool
	if err := m.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM apps)`).Scan(&anyApp); err != nil {
		return fmt.Errorf("checking for apps: %w", err)
	}
	if anyApp {
		return nil
	}
	app, err := m.CreateApp(ctx, "default", "Default")
	if err != nil {
		return fmt.Errorf("seeding default app: %w", err)
	}
	d, err := m.Deploy(ctx, DeployInput{App: app.ID, Name: "hello", Source: helloWorld, Message: "Hello World seed"})
	if err != nil {
		return fmt.Errorf("seeding hello script: %w", err)
	}
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO domains (app_id, pattern) VALUES ($1, 'localhost')`, app.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO routes (app_id, script_id, method, host, path) VALUES ($1, $2, '*', '', '/')`,
			app.ID, d.ID); err != nil {
			return err
		}
		return announce(ctx, tx, "routing")
	})
	if err != nil {
		return fmt.Errorf("seeding routes: %w", err)
	}
	m.log.Info("seeded default app", "app", app.Slug, "domain", "localhost", "script_id", d.ID)
	return nil
}
