package cli

import (
	"context"
	"net/http"
	"time"
)

// cronT is a cron trigger as the admin API answers it (docs/cron.md).
type cronT struct {
	ID        string     `json:"id"`
	ScriptID  string     `json:"script_id"`
	Schedule  string     `json:"schedule"`
	Timezone  string     `json:"timezone"`
	NextRunAt time.Time  `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// cmdCrons lists or replaces a script's cron triggers. `crons set`
// replaces the whole set, as wrangler's triggers.crons does; with no
// schedule it removes them all.
func cmdCrons(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls or set")
	}
	sub, args := args[0], args[1:]
	f := newFlags("crons " + sub)
	appRef := r.appFlag(f)
	var tz *string
	switch sub {
	case "ls", "list":
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
	case "set":
		tz = f.String("tz", "UTC", "IANA time zone of every schedule given (e.g. Europe/Paris)")
		if err := f.parse(args, 1, -1); err != nil {
			return err
		}
	default:
		return usagef("unknown subcommand %q: ls or set", sub)
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	s, err := resolveScript(ctx, c, *appRef, f.arg(0))
	if err != nil {
		return err
	}
	path := "/scripts/" + s.ID + "/crons"
	var out struct {
		Crons []cronT `json:"crons"`
	}
	if sub == "set" {
		specs := []map[string]string{}
		for _, sched := range f.pos[1:] {
			specs = append(specs, map[string]string{"schedule": sched, "timezone": *tz})
		}
		if err := c.do(ctx, http.MethodPut, path, nil, map[string]any{"crons": specs}, &out); err != nil {
			return err
		}
	} else if err := c.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(out.Crons)
	}
	if sub == "set" {
		if len(out.Crons) == 0 {
			r.out.printf("%s/%s has no cron triggers now.\n", s.App, s.Name)
			return nil
		}
		r.out.printf("%s/%s now has %d cron trigger(s):\n", s.App, s.Name, len(out.Crons))
	}
	now := time.Now()
	var rows [][]string
	for _, ct := range out.Crons {
		last := "-"
		if ct.LastRunAt != nil {
			last = ago(*ct.LastRunAt, now)
		}
		rows = append(rows, []string{ct.Schedule, ct.Timezone, until(ct.NextRunAt, now), last})
	}
	r.out.table("No cron triggers. Set some with `picloud crons set "+f.arg(0)+" [--tz ZONE] 'SCHEDULE'...`.",
		[]string{"SCHEDULE", "TIMEZONE", "NEXT RUN", "LAST RUN"}, rows)
	return nil
}

// until renders a coming time: its UTC time and how far away it is.
func until(t, now time.Time) string {
	in := "due"
	if d := t.Sub(now).Round(time.Second); d > 0 {
		in = "in " + d.String()
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC (" + in + ")"
}
