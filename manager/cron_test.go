package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/pgtest"
)

func TestParseSchedule(t *testing.T) {
	cases := []struct {
		name, spec, zone string
		wantErr          error
	}{
		{name: "six fields every second", spec: "* * * * * *"},
		{name: "six fields every 5 seconds", spec: "*/5 * * * * *", zone: "Europe/Paris"},
		{name: "five fields as in Workers", spec: "*/15 * * * *"},
		{name: "names of days and months", spec: "0 30 9 * JAN-MAR MON-FRI", zone: "America/New_York"},
		{name: "descriptor", spec: "@hourly"},
		{name: "every", spec: "@every 90s"},
		{name: "surrounding spaces", spec: "  0 0 * * *  "},
		{name: "empty", spec: "", wantErr: ErrBadSchedule},
		{name: "four fields", spec: "* * * *", wantErr: ErrBadSchedule},
		{name: "seven fields", spec: "* * * * * * *", wantErr: ErrBadSchedule},
		{name: "out of range", spec: "0 61 * * * *", wantErr: ErrBadSchedule},
		{name: "garbage", spec: "every tuesday", wantErr: ErrBadSchedule},
		{name: "never fires", spec: "0 0 0 30 2 *", wantErr: ErrBadSchedule},
		{name: "zone in the expression", spec: "CRON_TZ=Europe/Paris 0 0 * * *", wantErr: ErrBadSchedule},
		{name: "TZ prefix", spec: "TZ=UTC * * * * *", wantErr: ErrBadSchedule},
		{name: "too long", spec: strings.Repeat("1,", 150) + "1 * * * * *", wantErr: ErrBadSchedule},
		{name: "unknown zone", spec: "* * * * *", zone: "Mars/Olympus", wantErr: ErrBadTimezone},
		{name: "local zone", spec: "* * * * *", zone: "Local", wantErr: ErrBadTimezone},
		{name: "path in zone", spec: "* * * * *", zone: "../../etc/passwd", wantErr: ErrBadTimezone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSchedule(tc.spec, tc.zone)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("ParseSchedule(%q, %q): %v", tc.spec, tc.zone, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseSchedule(%q, %q) = %v, want %v", tc.spec, tc.zone, err, tc.wantErr)
			}
		})
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"* * * * * *", "*/5 * * * *", "@every 1s", "0 0 0 30 2 *", "1-5/0 * * * *", "@every -1s"} {
		f.Add(s, "UTC")
	}
	f.Fuzz(func(t *testing.T, spec, zone string) {
		s, err := ParseSchedule(spec, zone)
		if err != nil {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if n := s.Next(now); !n.After(now) {
			t.Fatalf("Next(%v) = %v for %q: not after", now, n, spec)
		}
	})
}

func TestScheduleNext(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	cases := []struct {
		name, spec, zone, after, want string
	}{
		{name: "next second is strictly after", spec: "* * * * * *", after: "2026-11-27T22:00:05Z", want: "2026-11-27T22:00:06Z"},
		{name: "sub-second now rounds up", spec: "* * * * * *", after: "2026-11-27T22:00:05.300Z", want: "2026-11-27T22:00:06Z"},
		{name: "five fields fire at second 0", spec: "*/15 * * * *", after: "2026-11-27T22:01:00Z", want: "2026-11-27T22:15:00Z"},
		{name: "zone in winter", spec: "0 0 9 * * *", zone: "America/New_York", after: "2026-01-10T00:00:00Z", want: "2026-01-10T14:00:00Z"},
		{name: "zone in summer", spec: "0 0 9 * * *", zone: "America/New_York", after: "2026-07-10T00:00:00Z", want: "2026-07-10T13:00:00Z"},
		{name: "Paris midnight", spec: "0 0 0 * * *", zone: "Europe/Paris", after: "2026-11-27T22:00:00Z", want: "2026-11-27T23:00:00Z"},
		// 2026-03-29: Paris goes from 02:00 to 03:00; 02:30 does not exist
		// that day and the next 02:30 is the day after.
		{name: "spring forward skips a missing time", spec: "0 30 2 * * *", zone: "Europe/Paris", after: "2026-03-28T12:00:00Z", want: "2026-03-30T00:30:00Z"},
		// 2026-10-25: Paris goes from 03:00 back to 02:00; 02:30 happens
		// twice and fires both times, CEST then CET (docs/cron.md).
		{name: "fall back first 02:30", spec: "0 30 2 * * *", zone: "Europe/Paris", after: "2026-10-24T12:00:00Z", want: "2026-10-25T00:30:00Z"},
		{name: "fall back second 02:30", spec: "0 30 2 * * *", zone: "Europe/Paris", after: "2026-10-25T00:30:00Z", want: "2026-10-25T01:30:00Z"},
		{name: "after fall back, next day", spec: "0 30 2 * * *", zone: "Europe/Paris", after: "2026-10-25T01:30:00Z", want: "2026-10-26T01:30:00Z"},
		{name: "hourly across fall back", spec: "0 0 * * * *", zone: "Europe/Paris", after: "2026-10-25T00:30:00Z", want: "2026-10-25T01:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(utc(tc.after)); !got.Equal(utc(tc.want)) {
				t.Errorf("Next(%s) = %s, want %s", tc.after, got.Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestCronAPI(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	app := e.app("crons")
	d := e.deploy(app.ID, "ticker")
	path := "/scripts/" + d.ID + "/crons"

	var out struct{ Crons []CronTrigger }
	if st := e.do(tok, "GET", path, nil, &out); st != 200 || len(out.Crons) != 0 {
		t.Fatalf("GET fresh: %d %+v", st, out)
	}
	before := time.Now()
	set := map[string]any{"crons": []map[string]string{{"schedule": "*/5 * * * * *", "timezone": "Europe/Paris"}, {"schedule": "0 0 * * *"}}}
	if st := e.do(tok, "PUT", path, set, &out); st != 200 || len(out.Crons) != 2 {
		t.Fatalf("PUT: %d %+v", st, out)
	}
	if c := out.Crons[1]; c.Timezone != "UTC" || c.Schedule != "0 0 * * *" || !c.NextRunAt.After(before) || c.LastRunAt != nil {
		t.Errorf("second trigger %+v", c)
	}
	if c := out.Crons[0]; c.NextRunAt.Sub(before) > 6*time.Second {
		t.Errorf("*/5 seconds trigger next at %v, more than 5s after %v", c.NextRunAt, before)
	}
	want := out.Crons

	bad := []struct {
		name      string
		body      any
		status    int
		code      string
		inMessage string
		index     float64
	}{
		{name: "bad expression", body: map[string]any{"crons": []map[string]string{{"schedule": "* * * * *"}, {"schedule": "0 61 * * * *"}}},
			status: 422, code: "invalid_cron", inMessage: "crons[1].schedule", index: 1},
		{name: "unknown zone", body: map[string]any{"crons": []map[string]string{{"schedule": "* * * * *", "timezone": "Mars/Olympus"}}},
			status: 422, code: "invalid_cron", inMessage: `crons[0].timezone: unknown time zone "Mars/Olympus"`, index: 0},
		{name: "duplicate", body: map[string]any{"crons": []map[string]string{{"schedule": "* * * * *"}, {"schedule": "* * * * *", "timezone": "UTC"}}},
			status: 422, code: "invalid_cron", inMessage: "duplicates crons[0]", index: 1},
		{name: "too many", body: map[string]any{"crons": func() []map[string]string {
			var cs []map[string]string
			for i := range MaxCronsPerScript + 1 {
				cs = append(cs, map[string]string{"schedule": fmt.Sprintf("%d * * * *", i)})
			}
			return cs
		}()}, status: 422, code: "too_many_crons", index: -1},
		{name: "missing crons", body: map[string]any{}, status: 422, code: "missing_crons", index: -1},
		{name: "unknown field", body: map[string]any{"crons": []map[string]string{{"schedule": "* * * * *", "tz": "UTC"}}}, status: 400, code: "invalid_json", index: -1},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			st, eb := e.fail(tok, "PUT", path, tc.body)
			if st != tc.status || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.inMessage) {
				t.Fatalf("got %d %+v, want %d %s containing %q", st, eb, tc.status, tc.code, tc.inMessage)
			}
			if tc.index >= 0 {
				errs, _ := eb.Error.Details["errors"].([]any)
				first, _ := errs[0].(map[string]any)
				if len(errs) == 0 || first["index"] != tc.index {
					t.Errorf("details %+v do not name index %v", eb.Error.Details, tc.index)
				}
			}
			var now struct{ Crons []CronTrigger }
			e.do(tok, "GET", path, nil, &now)
			if len(now.Crons) != len(want) || now.Crons[0].ID != want[0].ID || now.Crons[1].ID != want[1].ID {
				t.Errorf("a refused PUT changed the set: %+v", now.Crons)
			}
		})
	}

	// Re-setting an entry keeps its last run.
	ran := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	if _, err := e.m.pool.Exec(context.Background(), `UPDATE cron_triggers SET last_run_at = $1 WHERE id = $2`, ran, want[1].ID); err != nil {
		t.Fatal(err)
	}
	if st := e.do(tok, "PUT", path, map[string]any{"crons": []map[string]string{{"schedule": "0 0 * * *", "timezone": "UTC"}}}, &out); st != 200 || len(out.Crons) != 1 {
		t.Fatalf("PUT one: %d %+v", st, out)
	}
	if c := out.Crons[0]; c.LastRunAt == nil || !c.LastRunAt.Equal(ran) {
		t.Errorf("last run not kept: %+v", c)
	}
	// An empty list clears.
	if st := e.do(tok, "PUT", path, map[string]any{"crons": []any{}}, &out); st != 200 || len(out.Crons) != 0 {
		t.Fatalf("PUT empty: %d %+v", st, out)
	}
	if st, eb := e.fail(tok, "GET", "/scripts/00000000-0000-0000-0000-000000000000/crons", nil); st != 404 {
		t.Errorf("unknown script: %d %+v", st, eb)
	}
	if st, _ := e.fail(tok, "PUT", "/scripts/not-a-uuid/crons", set); st != 404 {
		t.Errorf("bad id: %d", st)
	}

	// Deleting the script deletes its triggers.
	e.do(tok, "PUT", path, set, &out)
	if err := e.m.DeleteScript(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.m.pool.QueryRow(context.Background(), `SELECT count(*) FROM cron_triggers WHERE script_id = $1`, d.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("triggers left after delete: %d %v", n, err)
	}
}

func TestClaimDueCatchUpFiresOnce(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	app := e.app("catchup")
	d := e.deploy(app.ID, "late")
	cs, err := e.m.SetCrons(ctx, d.ID, []CronSpec{{Schedule: "0 * * * * *"}, {Schedule: "0 0 0 1 1 *"}})
	if err != nil {
		t.Fatal(err)
	}
	// The node was down for ten minutes: ten ticks of the first trigger
	// were missed.
	now := time.Now().UTC()
	missed := now.Add(-10 * time.Minute).Truncate(time.Minute)
	if _, err := e.m.pool.Exec(ctx, `UPDATE cron_triggers SET next_run_at = $1 WHERE id = $2`, missed, cs[0].ID); err != nil {
		t.Fatal(err)
	}
	fires, err := e.m.claimDue(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fires) != 1 || fires[0].TriggerID != cs[0].ID || !fires[0].ScheduledTime.Equal(missed) ||
		fires[0].ScriptID != d.ID || fires[0].AppID != app.ID || fires[0].Schedule != "0 * * * * *" {
		t.Fatalf("claimed %+v, want one fire of %s at %v", fires, cs[0].ID, missed)
	}
	again, err := e.m.claimDue(ctx, now, 10)
	if err != nil || len(again) != 0 {
		t.Fatalf("second claim at the same time: %+v %v (missed ticks must fire once)", again, err)
	}
	after, err := e.m.Crons(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if next := after[0].NextRunAt; !next.After(now) || next.Sub(now) > time.Minute {
		t.Errorf("next run %v, want the first tick after %v", next, now)
	}
	if after[0].LastRunAt == nil {
		t.Errorf("last run not recorded")
	}
	// The limit bounds one claim.
	if _, err := e.m.pool.Exec(ctx, `UPDATE cron_triggers SET next_run_at = $1`, missed); err != nil {
		t.Fatal(err)
	}
	if fires, err := e.m.claimDue(ctx, now, 1); err != nil || len(fires) != 1 {
		t.Fatalf("claim with limit 1: %+v %v", fires, err)
	}
}

// Two managers on one database, as two nodes of a cluster: every tick of
// every trigger fires exactly once.
func TestTwoSchedulersFireEachTickOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open2 := func() *Manager {
		m, err := Open(ctx, Config{DatabaseURL: dsn, Compiler: fakeCompiler{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return m
	}
	a, b := open2(), open2()
	app, err := a.CreateApp(ctx, "cluster", "")
	if err != nil {
		t.Fatal(err)
	}
	// The same schedule in five zones, on each of two scripts.
	var specs []CronSpec
	for _, z := range []string{"UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York", "Australia/Adelaide"} {
		specs = append(specs, CronSpec{Schedule: "* * * * * *", Timezone: z})
	}
	for _, name := range []string{"one", "two"} {
		d, err := a.Deploy(ctx, DeployInput{App: app.ID, Name: name, Source: "export default {}"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.SetCrons(ctx, d.ID, specs); err != nil {
			t.Fatal(err)
		}
	}

	type tick struct {
		trigger string
		at      time.Time
	}
	var mu sync.Mutex
	seen := map[tick][]string{}
	fire := func(who string) func(context.Context, CronFire) {
		return func(_ context.Context, f CronFire) {
			mu.Lock()
			defer mu.Unlock()
			k := tick{f.TriggerID, f.ScheduledTime}
			seen[k] = append(seen[k], who)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for who, m := range map[string]*Manager{"a": a, "b": b} {
		wg.Go(func() { m.RunCron(runCtx, CronOptions{Fire: fire(who), Interval: 100 * time.Millisecond}) })
	}
	time.Sleep(3500 * time.Millisecond)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	perTrigger := map[string]int{}
	by := map[string]int{}
	for k, whos := range seen {
		if len(whos) != 1 {
			t.Errorf("tick %v of %s fired %d times (%v)", k.at, k.trigger, len(whos), whos)
		}
		perTrigger[k.trigger]++
		by[whos[0]]++
	}
	if len(perTrigger) != 10 {
		t.Errorf("%d triggers fired, want 10", len(perTrigger))
	}
	for id, n := range perTrigger {
		if n < 2 {
			t.Errorf("trigger %s fired %d ticks in 3.5s, want at least 2", id, n)
		}
	}
	t.Logf("fires by manager: %v", by)
}
