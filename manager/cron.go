package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"
)

// Cron trigger bounds (docs/cron.md).
const (
	// MaxCronsPerScript bounds a script's set of cron triggers.
	MaxCronsPerScript = 10
	maxCronSchedule   = 200 // bytes of one schedule
	maxCronTimezone   = 64  // bytes of one zone name
)

// cronParser reads 6-field (seconds first) and 5-field (minutes first,
// as Cloudflare Workers writes them; seconds are 0) expressions, and the
// @yearly ... @hourly and @every descriptors. It holds no state.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed cron expression in a time zone.
type Schedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// Next is the first tick strictly after t (whole seconds), or the zero
// time when there is none within five years.
func (s Schedule) Next(t time.Time) time.Time {
	return s.sched.Next(t.In(s.loc)).UTC()
}

// Sentinel errors of ParseSchedule.
var (
	ErrBadSchedule = errors.New("invalid cron schedule")
	ErrBadTimezone = errors.New("unknown time zone")
)

// ParseSchedule parses a cron expression and an IANA zone name ("" is
// UTC). The zone is its own field: a TZ= or CRON_TZ= prefix is refused,
// and so is "Local", which would differ from node to node.
func ParseSchedule(spec, zone string) (s Schedule, err error) {
	if zone == "" {
		zone = "UTC"
	}
	if len(zone) > maxCronTimezone || zone == "Local" || strings.ContainsAny(zone, " \t\n") {
		return Schedule{}, fmt.Errorf("%w %q", ErrBadTimezone, zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return Schedule{}, fmt.Errorf("%w %q", ErrBadTimezone, zone)
	}
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return Schedule{}, fmt.Errorf("%w: empty", ErrBadSchedule)
	case len(spec) > maxCronSchedule:
		return Schedule{}, fmt.Errorf("%w: longer than %d bytes", ErrBadSchedule, maxCronSchedule)
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return Schedule{}, fmt.Errorf("%w: give the time zone in the timezone field, not in the expression", ErrBadSchedule)
	}
	// The parser is third-party code fed user input: a panic is a refusal.
	defer func() {
		if r := recover(); r != nil {
			s, err = Schedule{}, fmt.Errorf("%w: %v", ErrBadSchedule, r)
		}
	}()
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("%w: %v", ErrBadSchedule, err)
	}
	s = Schedule{sched: sched, loc: loc}
	if s.Next(time.Now()).IsZero() {
		return Schedule{}, fmt.Errorf("%w: it never fires", ErrBadSchedule)
	}
	return s, nil
}

// CronSpec is one trigger as a client gives it.
type CronSpec struct {
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone,omitempty"`
}

// CronTrigger is one stored trigger of a script.
type CronTrigger struct {
	ID        string     `json:"id"`
	ScriptID  string     `json:"script_id"`
	Schedule  string     `json:"schedule"`
	Timezone  string     `json:"timezone"`
	NextRunAt time.Time  `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// cronProblem says which entry of a PUT is wrong and why.
type cronProblem struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// checkCrons validates a whole set and returns the parsed schedules, or a
// 422 naming every bad entry.
func checkCrons(specs []CronSpec) ([]Schedule, error) {
	if len(specs) > MaxCronsPerScript {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Code: "too_many_crons",
			Message: fmt.Sprintf("a script has at most %d cron triggers, %d given", MaxCronsPerScript, len(specs)),
			Details: gin.H{"max": MaxCronsPerScript, "given": len(specs)},
		}
	}
	var problems []cronProblem
	scheds := make([]Schedule, len(specs))
	seen := map[CronSpec]int{}
	for i, c := range specs {
		s, err := ParseSchedule(c.Schedule, c.Timezone)
		if err != nil {
			field := "schedule"
			if errors.Is(err, ErrBadTimezone) {
				field = "timezone"
			}
			problems = append(problems, cronProblem{Index: i, Field: field, Message: err.Error()})
			continue
		}
		key := CronSpec{Schedule: strings.TrimSpace(c.Schedule), Timezone: zoneName(c.Timezone)}
		if j, dup := seen[key]; dup {
			problems = append(problems, cronProblem{Index: i, Field: "schedule", Message: fmt.Sprintf("duplicates crons[%d]", j)})
			continue
		}
		seen[key] = i
		scheds[i] = s
	}
	if len(problems) > 0 {
		p := problems[0]
		return nil, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_cron",
			Message: fmt.Sprintf("crons[%d].%s: %s", p.Index, p.Field, p.Message),
			Details: gin.H{"errors": problems}}
	}
	return scheds, nil
}

func zoneName(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}

const cronColumns = `id, script_id, schedule, timezone, next_run_at, last_run_at, created_at`

func scanCron(r pgx.Row) (CronTrigger, error) {
	var c CronTrigger
	err := r.Scan(&c.ID, &c.ScriptID, &c.Schedule, &c.Timezone, &c.NextRunAt, &c.LastRunAt, &c.CreatedAt)
	return c, err
}

// Crons lists a script's cron triggers in the order they were set.
func (m *Manager) Crons(ctx context.Context, scriptID string) ([]CronTrigger, error) {
	if _, err := m.ScriptApp(ctx, scriptID); err != nil {
		return nil, err
	}
	rows, err := m.pool.Query(ctx, `SELECT `+cronColumns+` FROM cron_triggers WHERE script_id = $1 ORDER BY position`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("listing cron triggers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CronTrigger, error) { return scanCron(r) })
	if err != nil {
		return nil, fmt.Errorf("listing cron triggers: %w", err)
	}
	return out, nil
}

// SetCrons replaces a script's whole set of cron triggers (an empty set
// removes them). Nothing changes unless every entry is valid. An entry
// equal to one already set keeps its last run; every next run is
// computed afresh from now.
func (m *Manager) SetCrons(ctx context.Context, scriptID string, specs []CronSpec) ([]CronTrigger, error) {
	scheds, err := checkCrons(specs)
	if err != nil {
		return nil, err
	}
	if !uuidPattern.MatchString(scriptID) {
		return nil, notFound("script", scriptID)
	}
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("setting cron triggers: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var appID string
	// The script row lock orders concurrent PUTs of one script.
	err = tx.QueryRow(ctx, `SELECT app_id FROM scripts WHERE id = $1 FOR UPDATE`, scriptID).Scan(&appID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("script", scriptID)
	}
	if err != nil {
		return nil, fmt.Errorf("setting cron triggers: %w", err)
	}
	last := map[CronSpec]*time.Time{}
	rows, err := tx.Query(ctx, `DELETE FROM cron_triggers WHERE script_id = $1 RETURNING schedule, timezone, last_run_at`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("setting cron triggers: %w", err)
	}
	for rows.Next() {
		var k CronSpec
		var t *time.Time
		if err := rows.Scan(&k.Schedule, &k.Timezone, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("setting cron triggers: %w", err)
		}
		last[k] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("setting cron triggers: %w", err)
	}
	now := m.now()
	out := make([]CronTrigger, 0, len(specs))
	for i, c := range specs {
		k := CronSpec{Schedule: strings.TrimSpace(c.Schedule), Timezone: zoneName(c.Timezone)}
		ct, err := scanCron(tx.QueryRow(ctx, `
			INSERT INTO cron_triggers (app_id, script_id, position, schedule, timezone, next_run_at, last_run_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+cronColumns,
			appID, scriptID, i, k.Schedule, k.Timezone, scheds[i].Next(now), last[k]))
		if err != nil {
			return nil, fmt.Errorf("setting cron trigger %d: %w", i, err)
		}
		out = append(out, ct)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("setting cron triggers: %w", err)
	}
	return out, nil
}

func (m *Manager) handleListCrons(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptRead); err != nil {
		return err
	}
	cs, err := m.Crons(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"crons": cs})
	return nil
}

func (m *Manager) handleSetCrons(c *gin.Context) error {
	id := c.Param("id")
	if err := m.scriptFor(c, id, CapScriptWrite); err != nil {
		return err
	}
	var in struct {
		Crons *[]CronSpec `json:"crons"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Crons == nil {
		return invalid("missing_crons", `crons is required (an empty list removes every trigger): {"crons":[{"schedule":"*/5 * * * * *","timezone":"UTC"}]}`)
	}
	cs, err := m.SetCrons(c.Request.Context(), id, *in.Crons)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"crons": cs})
	return nil
}

// CronFire is one due tick handed to the node to run.
type CronFire struct {
	TriggerID string
	AppID     string
	ScriptID  string
	Schedule  string
	Timezone  string
	// ScheduledTime is the tick that was due: the earliest missed one
	// when ticks were missed.
	ScheduledTime time.Time
}

// CronOptions configures RunCron.
type CronOptions struct {
	// Fire runs one tick; it is called on its own goroutine.
	Fire func(ctx context.Context, f CronFire)
	// MaxInFlight bounds the ticks this node runs at once (default 8);
	// due ticks beyond it wait for the next wake-up, or another node.
	MaxInFlight int
	// Interval is the longest sleep between claims (default 1s).
	Interval time.Duration
}

// RunCron claims due cron triggers and fires them until ctx ends, then
// waits for the ticks it started. Every manager of a cluster may run it:
// a tick is claimed by exactly one (FOR UPDATE SKIP LOCKED).
func (m *Manager) RunCron(ctx context.Context, o CronOptions) {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	slots := make(chan struct{}, o.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		failed := false
		if free := cap(slots) - len(slots); free > 0 {
			fires, err := m.claimDue(ctx, m.now(), free)
			if err != nil && ctx.Err() == nil {
				// The database is away: say so, and retry less often.
				m.log.Error("claiming cron triggers", "err", err)
				failed = true
			}
			for _, f := range fires {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-slots; wg.Done() }()
					o.Fire(ctx, f)
				}()
			}
		}
		// Wake just after the next whole second, when second-granular
		// ticks fall due.
		now := m.now()
		wait := min(o.Interval, now.Truncate(time.Second).Add(time.Second+5*time.Millisecond).Sub(now))
		if failed {
			wait = 5 * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// claimDue takes up to limit triggers due at now, moves each one's
// next_run_at to its first tick strictly after now (missed ticks fire
// once) and commits before anything runs: a tick is fired at most once.
func (m *Manager) claimDue(ctx context.Context, now time.Time, limit int) ([]CronFire, error) {
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `
		SELECT id, app_id, script_id, schedule, timezone, next_run_at FROM cron_triggers
		WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT $2
		FOR UPDATE SKIP LOCKED`, now, limit)
	if err != nil {
		return nil, err
	}
	fires, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CronFire, error) {
		var f CronFire
		err := r.Scan(&f.TriggerID, &f.AppID, &f.ScriptID, &f.Schedule, &f.Timezone, &f.ScheduledTime)
		return f, err
	})
	if err != nil {
		return nil, err
	}
	out := fires[:0]
	for _, f := range fires {
		s, perr := ParseSchedule(f.Schedule, f.Timezone)
		var next time.Time
		if perr == nil {
			next = s.Next(now)
		}
		if next.IsZero() {
			// Stored when valid, unreadable now (a zone gone from the
			// tz database): park it rather than retry every second.
			m.log.Error("cron trigger cannot be scheduled; retrying in an hour", "trigger_id", f.TriggerID,
				"script_id", f.ScriptID, "schedule", f.Schedule, "timezone", f.Timezone, "err", perr)
			next = now.Add(time.Hour)
			if _, err := tx.Exec(ctx, `UPDATE cron_triggers SET next_run_at = $2 WHERE id = $1`, f.TriggerID, next); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE cron_triggers SET next_run_at = $2, last_run_at = $3 WHERE id = $1`,
			f.TriggerID, next, now); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}
