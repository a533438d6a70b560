package manager

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// ExecutionRecord is one finished execution as the data plane reports it.
type ExecutionRecord struct {
	ExecutionID string
	RequestID   string
	AppID       string
	ScriptID    string
	Version     int
	Method      string
	Path        string
	Status      int
	Outcome     string // success, error, timeout, limit
	Error       string
	Duration    time.Duration
	// Finished is when the execution ended; zero means now.
	Finished time.Time
	Lines    []ConsoleLine
}

// ConsoleLine is one console call of a script.
type ConsoleLine struct {
	Time    time.Time
	Level   string // debug, info, warn, error
	Message string
}

// Execution is a stored execution, newest first in listings.
type Execution struct {
	// Seq orders executions; it is the paging cursor and the SSE event id.
	Seq        int64      `json:"seq"`
	ID         string     `json:"id"`
	RequestID  string     `json:"request_id"`
	AppID      string     `json:"app_id"`
	App        string     `json:"app"`
	ScriptID   string     `json:"script_id"`
	Script     string     `json:"script"`
	Version    int        `json:"version"`
	Method     string     `json:"method"`
	Path       string     `json:"path"`
	Status     int        `json:"status"`
	Outcome    string     `json:"outcome"`
	Error      string     `json:"error,omitempty"`
	DurationMS float64    `json:"duration_ms"`
	StartedAt  time.Time  `json:"started_at"`
	LogCount   int        `json:"log_count"`
	Logs       []LogEntry `json:"logs,omitempty"`
}

// LogEntry is one stored console line. The execution fields are set when
// lines are listed on their own.
type LogEntry struct {
	Seq         int64     `json:"seq,omitempty"`
	Time        time.Time `json:"time"`
	Level       string    `json:"level"`
	Message     string    `json:"message"`
	ExecutionID string    `json:"execution_id,omitempty"`
	AppID       string    `json:"app_id,omitempty"`
	App         string    `json:"app,omitempty"`
	ScriptID    string    `json:"script_id,omitempty"`
	Script      string    `json:"script,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
}

// Levels of console lines, lowest first; a level filter is a minimum.
var levels = []string{"debug", "info", "warn", "error"}

func levelNumber(s string) (int, bool) {
	switch s {
	case "log":
		return 1, true
	case "warning":
		return 2, true
	}
	for i, l := range levels {
		if l == s {
			return i, true
		}
	}
	return 0, false
}

func levelName(n int16) string {
	if n < 0 || int(n) >= len(levels) {
		return "info"
	}
	return levels[n]
}

var outcomes = map[string]bool{"success": true, "error": true, "timeout": true, "limit": true}

// LogConfig bounds the execution log. Zero fields take the defaults, which
// suit an SD card: at most 10 000 executions and 50 000 lines per app, kept
// 7 days, lines cut at 2 KiB and 200 per execution.
type LogConfig struct {
	// QueueSize is how many executions wait for the writer; beyond it
	// records are dropped and counted, never waited for.
	QueueSize int
	// BatchSize is how many executions one write transaction stores.
	BatchSize int
	// FlushInterval is the longest a record waits for a batch to fill.
	FlushInterval time.Duration
	// RetainExecutions and RetainLines bound rows per app.
	RetainExecutions int
	RetainLines      int
	// RetainAge bounds how long rows are kept.
	RetainAge time.Duration
	// PurgeInterval is how often retention is applied.
	PurgeInterval time.Duration
	// MaxLinesPerExecution and MaxMessageBytes bound what one execution
	// stores; the excess is replaced by a note.
	MaxLinesPerExecution int
	MaxMessageBytes      int
}

func (c LogConfig) withDefaults() LogConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.QueueSize, 4096)
	def(&c.BatchSize, 128)
	defDur(&c.FlushInterval, 200*time.Millisecond)
	def(&c.RetainExecutions, 10000)
	def(&c.RetainLines, 50000)
	defDur(&c.RetainAge, 7*24*time.Hour)
	defDur(&c.PurgeInterval, 5*time.Minute)
	def(&c.MaxLinesPerExecution, 200)
	def(&c.MaxMessageBytes, 2048)
	return c
}

// LogStats counts what the execution log writer did since start.
type LogStats struct {
	Written int64 `json:"written"`
	Dropped int64 `json:"dropped"`
	Failed  int64 `json:"failed"`
	Queued  int   `json:"queued"`
}

// execLog is the buffered, batched writer of execution records, and the
// broadcaster that feeds live tails.
type execLog struct {
	cfg     LogConfig
	queue   chan ExecutionRecord
	written atomic.Int64
	dropped atomic.Int64
	failed  atomic.Int64
	bc      broadcaster

	started  atomic.Bool
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

func newExecLog(cfg LogConfig) *execLog {
	cfg = cfg.withDefaults()
	return &execLog{
		cfg: cfg, queue: make(chan ExecutionRecord, cfg.QueueSize),
		bc:   broadcaster{subs: make(map[*subscription]struct{})},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// RecordExecution queues rec for storage. It never blocks: when the queue
// is full the record is dropped and counted.
func (m *Manager) RecordExecution(_ context.Context, rec ExecutionRecord) {
	if rec.Finished.IsZero() {
		rec.Finished = time.Now()
	}
	select {
	case m.logs.queue <- rec:
	default:
		m.logs.dropped.Add(1)
	}
}

// ExecutionLogStats reports the writer's counters.
func (m *Manager) ExecutionLogStats() LogStats {
	return LogStats{
		Written: m.logs.written.Load(), Dropped: m.logs.dropped.Load(),
		Failed: m.logs.failed.Load(), Queued: len(m.logs.queue),
	}
}

// RunExecutionLog stores queued execution records in batches and applies
// retention until StopExecutionLog. When ctx ends, live tails are closed (so
// an HTTP server can shut down) but records are still stored: executions
// that finish while the server drains are kept. Run it once per manager.
func (m *Manager) RunExecutionLog(ctx context.Context) {
	l := m.logs
	if !l.started.CompareAndSwap(false, true) {
		return
	}
	defer close(l.done)
	wctx := context.WithoutCancel(ctx)
	flush := time.NewTicker(l.cfg.FlushInterval)
	defer flush.Stop()
	purge := time.NewTicker(l.cfg.PurgeInterval)
	defer purge.Stop()
	m.purgeLogs(wctx)

	batch := make([]ExecutionRecord, 0, l.cfg.BatchSize)
	var reportedDrops int64
	var lastReport time.Time
	write := func(ctx context.Context) {
		if len(batch) > 0 {
			m.writeBatch(ctx, batch)
			batch = batch[:0]
		}
		// Drops are reported at most every 10 s so a flood does not
		// become a flood of warnings too.
		if d := l.dropped.Load(); d != reportedDrops && time.Since(lastReport) >= 10*time.Second {
			m.log.Warn("execution log queue full; records dropped", "dropped", d-reportedDrops, "dropped_total", d, "queue_size", l.cfg.QueueSize)
			reportedDrops, lastReport = d, time.Now()
		}
	}
	ctxDone := ctx.Done()
	for {
		select {
		case rec := <-l.queue:
			batch = append(batch, rec)
			if len(batch) >= l.cfg.BatchSize {
				write(wctx)
			}
		case <-flush.C:
			write(wctx)
		case <-purge.C:
			m.purgeLogs(wctx)
		case <-ctxDone:
			l.bc.close()
			ctxDone = nil
		case <-l.stop:
			l.bc.close()
			drainCtx, cancel := context.WithTimeout(wctx, 5*time.Second)
			defer cancel()
			for drained := false; !drained; {
				select {
				case rec := <-l.queue:
					batch = append(batch, rec)
					if len(batch) >= l.cfg.BatchSize {
						write(drainCtx)
					}
				default:
					drained = true
				}
			}
			write(drainCtx)
			return
		}
	}
}

// StopExecutionLog stores what is still queued and stops RunExecutionLog.
// Call it after the HTTP server stopped and before Close.
func (m *Manager) StopExecutionLog() {
	l := m.logs
	l.stopOnce.Do(func() { close(l.stop) })
	if l.started.Load() {
		<-l.done
	}
}

// writeBatch stores recs in one transaction (one INSERT for the
// executions, one COPY for their lines) and publishes them to live tails
// once committed. A failed batch is logged and dropped: logs must never
// hold up the data plane.
func (m *Manager) writeBatch(ctx context.Context, recs []ExecutionRecord) {
	l := m.logs
	kept := make([]ExecutionRecord, 0, len(recs))
	for _, r := range recs {
		if !uuidPattern.MatchString(r.AppID) || !uuidPattern.MatchString(r.ScriptID) {
			continue
		}
		r = l.bound(r)
		if r.Finished.IsZero() {
			r.Finished = time.Now()
		}
		if !outcomes[r.Outcome] {
			r.Outcome = "error"
		}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return
	}
	n := len(kept)
	var (
		appIDs, execIDs, reqIDs, scriptIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		methods, paths, outs, errs         = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		versions, statuses, counts         = make([]int32, n), make([]int32, n), make([]int32, n)
		durations                          = make([]int64, n)
		starts                             = make([]time.Time, n)
	)
	// Rows come back as (seq, execution_id); index them by position so
	// duplicate execution ids (never sent by the edge) still line up.
	byID := make(map[string][]int, n)
	for i, r := range kept {
		appIDs[i], execIDs[i], reqIDs[i], scriptIDs[i] = r.AppID, r.ExecutionID, r.RequestID, r.ScriptID
		methods[i], paths[i], outs[i], errs[i] = r.Method, r.Path, r.Outcome, r.Error
		versions[i], statuses[i], counts[i] = int32(r.Version), int32(r.Status), int32(len(r.Lines))
		durations[i], starts[i] = r.Duration.Microseconds(), r.Finished.Add(-r.Duration)
		byID[r.ExecutionID] = append(byID[r.ExecutionID], i)
	}
	seqs := make([]int64, n) // 0: not stored (its app is gone)
	names := map[string]string{}
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		clear(seqs)
		// Logs are not worth an fsync per batch: a crash may lose the last
		// fraction of a second of them, never anything else.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("storing executions: %w", err)
		}
		// Rows of an app deleted meanwhile are skipped, not fatal.
		rows, err := tx.Query(ctx, `
			INSERT INTO executions (app_id, execution_id, request_id, script_id, version, method, path,
			                        status, outcome, error, duration_us, started_at, log_count)
			SELECT t.app_id, t.execution_id, t.request_id, t.script_id, t.version, t.method, t.path,
			       t.status, t.outcome, t.error, t.duration_us, t.started_at, t.log_count
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::int[], $6::text[], $7::text[],
			            $8::int[], $9::text[], $10::text[], $11::bigint[], $12::timestamptz[], $13::int[])
			     WITH ORDINALITY AS t(app_id, execution_id, request_id, script_id, version, method, path, status,
			                          outcome, error, duration_us, started_at, log_count, ord)
			WHERE EXISTS (SELECT 1 FROM apps a WHERE a.id = t.app_id)
			ORDER BY t.ord -- seq follows the order executions finished in
			RETURNING id, execution_id`,
			appIDs, execIDs, reqIDs, scriptIDs, versions, methods, paths, statuses, outs, errs, durations, starts, counts)
		if err != nil {
			return fmt.Errorf("storing executions: %w", err)
		}
		taken := make(map[string]int, n)
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				rows.Close()
				return fmt.Errorf("storing executions: %w", err)
			}
			if at := byID[id]; taken[id] < len(at) {
				seqs[at[taken[id]]] = seq
				taken[id]++
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("storing executions: %w", err)
		}
		var lines [][]any
		for i, r := range kept {
			if seqs[i] == 0 {
				continue
			}
			for _, ln := range r.Lines {
				lv, _ := levelNumber(ln.Level)
				lines = append(lines, []any{r.AppID, seqs[i], r.ScriptID, ln.Time, int16(lv), ln.Message})
			}
		}
		if len(lines) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"execution_logs"},
				[]string{"app_id", "exec_id", "script_id", "time", "level", "message"}, pgx.CopyFromRows(lines)); err != nil {
				return fmt.Errorf("storing log lines: %w", err)
			}
		}
		// Names for live tails, looked up once per batch.
		rows, err = tx.Query(ctx, `SELECT id::text, name FROM scripts WHERE id = ANY($1::uuid[])
			UNION ALL SELECT id::text, slug FROM apps WHERE id = ANY($2::uuid[])`, scriptIDs, appIDs)
		if err != nil {
			return fmt.Errorf("loading names: %w", err)
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return fmt.Errorf("loading names: %w", err)
			}
			names[id] = name
		}
		return rows.Err()
	})
	if err != nil {
		l.failed.Add(int64(len(recs)))
		m.log.Warn("storing execution logs failed; batch dropped", "executions", len(recs), "err", err)
		return
	}
	stored := make([]Execution, 0, n)
	for i, r := range kept {
		if seqs[i] == 0 {
			continue
		}
		e := Execution{
			Seq: seqs[i], ID: r.ExecutionID, RequestID: r.RequestID, AppID: r.AppID, App: names[strings.ToLower(r.AppID)],
			ScriptID: r.ScriptID, Script: names[strings.ToLower(r.ScriptID)], Version: r.Version, Method: r.Method,
			Path: r.Path, Status: r.Status, Outcome: r.Outcome, Error: r.Error,
			DurationMS: durationMS(r.Duration.Microseconds()), StartedAt: starts[i].UTC(), LogCount: len(r.Lines),
		}
		for _, ln := range r.Lines {
			lv, _ := levelNumber(ln.Level)
			e.Logs = append(e.Logs, LogEntry{Time: ln.Time.UTC(), Level: levelName(int16(lv)), Message: ln.Message})
		}
		stored = append(stored, e)
	}
	l.written.Add(int64(len(stored)))
	l.bc.publish(stored)
}

// bound applies the per-execution limits to r.
func (l *execLog) bound(r ExecutionRecord) ExecutionRecord {
	limit := l.cfg.MaxLinesPerExecution
	keep := min(len(r.Lines), limit)
	if len(r.Lines) > limit {
		keep = limit - 1 // room for the note
	}
	out := make([]ConsoleLine, 0, min(len(r.Lines), limit))
	for _, ln := range r.Lines[:keep] {
		if ln.Time.IsZero() {
			ln.Time = time.Now()
		}
		ln.Message = truncate(strings.ToValidUTF8(ln.Message, "\uFFFD"), l.cfg.MaxMessageBytes)
		out = append(out, ln)
	}
	if extra := len(r.Lines) - keep; extra > 0 {
		out = append(out, ConsoleLine{Time: r.Lines[keep].Time, Level: "warn",
			Message: fmt.Sprintf("log storage limit: %d more lines not stored (limit %d per execution)", extra, limit)})
	}
	r.Lines = out
	r.Error = truncate(strings.ToValidUTF8(r.Error, "\uFFFD"), l.cfg.MaxMessageBytes)
	r.Path = truncate(strings.ToValidUTF8(r.Path, "\uFFFD"), 2048)
	return r
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…[truncated]"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func durationMS(us int64) float64 { return float64(us) / 1000 }

// purgeLogs applies retention: age first, then the per-app row bounds.
// An app's own bounds (apps.log_retain_*) apply where lower than the
// node's.
func (m *Manager) purgeLogs(ctx context.Context) {
	cfg := m.logs.cfg
	start := time.Now()
	var total int64
	for _, q := range []struct {
		what string
		sql  string
		arg  any
	}{
		{"age", `DELETE FROM executions WHERE started_at < now() - make_interval(secs => $1)`, cfg.RetainAge.Seconds()},
		{"app age", `DELETE FROM executions e USING apps a
			WHERE a.log_retain_age_seconds < $1 AND e.app_id = a.id
			AND e.started_at < now() - make_interval(secs => a.log_retain_age_seconds)`, int64(cfg.RetainAge.Seconds())},
		{"executions", `DELETE FROM executions e USING (
			SELECT r.id FROM (SELECT id, app_id, row_number() OVER (PARTITION BY app_id ORDER BY id DESC) AS n FROM executions) r
			JOIN apps a ON a.id = r.app_id
			WHERE r.n > least(coalesce(a.log_retain_executions, $1), $1)) old WHERE e.id = old.id`, cfg.RetainExecutions},
		{"lines", `DELETE FROM execution_logs l USING (
			SELECT r.id FROM (SELECT id, app_id, row_number() OVER (PARTITION BY app_id ORDER BY id DESC) AS n FROM execution_logs) r
			JOIN apps a ON a.id = r.app_id
			WHERE r.n > least(coalesce(a.log_retain_lines, $1), $1)) old WHERE l.id = old.id`, cfg.RetainLines},
	} {
		tag, err := m.pool.Exec(ctx, q.sql, q.arg)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("purging execution logs failed", "by", q.what, "err", err)
			}
			return
		}
		total += tag.RowsAffected()
	}
	if total > 0 {
		m.log.Info("purged execution logs", "rows", total, "duration", time.Since(start).Round(time.Millisecond))
	}
}

// PurgeExecutionLogs applies retention now.
func (m *Manager) PurgeExecutionLogs(ctx context.Context) { m.purgeLogs(ctx) }

// LogFilter selects executions and their lines. Zero fields match all.
type LogFilter struct {
	AppID       string
	ScriptID    string
	ExecutionID string
	Outcome     string
	// MinLevel selects lines at or above a level; -1 (or LevelAny) all.
	MinLevel int
	Since    time.Time
	Until    time.Time
}

// LevelAny disables the level filter.
const LevelAny = -1

// Page selects one page: newest first, before the row Before (0 = from
// the newest); or with Asc oldest first, after the row After.
type Page struct {
	Before int64
	After  int64
	Asc    bool
	Limit  int
}

// MaxPageSize bounds every page of the log API.
const MaxPageSize = 200

func (p Page) limit() int {
	if p.Limit <= 0 || p.Limit > MaxPageSize {
		return MaxPageSize
	}
	return p.Limit
}

// where builds the WHERE clause of f over alias e (executions) and,
// when lines is true, l (execution_logs).
func (f LogFilter) where(p Page, lines bool, args *[]any) string {
	var conds []string
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	if f.AppID != "" {
		conds = append(conds, "e.app_id = "+arg(f.AppID))
	}
	if f.ScriptID != "" {
		conds = append(conds, "e.script_id = "+arg(f.ScriptID))
	}
	if f.ExecutionID != "" {
		conds = append(conds, "e.execution_id = "+arg(f.ExecutionID))
	}
	if f.Outcome != "" {
		conds = append(conds, "e.outcome = "+arg(f.Outcome))
	}
	seq, tcol := "e.id", "e.started_at"
	if lines {
		seq, tcol = "l.id", "l.time"
		if f.MinLevel > 0 {
			conds = append(conds, "l.level >= "+arg(int16(f.MinLevel)))
		}
	} else if f.MinLevel > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM execution_logs x WHERE x.exec_id = e.id AND x.level >= "+arg(int16(f.MinLevel))+")")
	}
	if !f.Since.IsZero() {
		conds = append(conds, tcol+" >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, tcol+" < "+arg(f.Until))
	}
	if p.Before > 0 {
		conds = append(conds, seq+" < "+arg(p.Before))
	}
	if p.After > 0 {
		conds = append(conds, seq+" > "+arg(p.After))
	}
	if len(conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(conds, " AND ")
}

func order(p Page, col string) string {
	if p.Asc {
		return " ORDER BY " + col + " ASC"
	}
	return " ORDER BY " + col + " DESC"
}

const executionColumns = `e.id, e.execution_id, e.request_id, e.app_id, a.slug, e.script_id, coalesce(s.name, ''),
	e.version, e.method, e.path, e.status, e.outcome, e.error, e.duration_us, e.started_at, e.log_count`

const executionFrom = ` FROM executions e JOIN apps a ON a.id = e.app_id LEFT JOIN scripts s ON s.id = e.script_id `

func scanExecution(r pgx.Row) (Execution, error) {
	var e Execution
	var us int64
	err := r.Scan(&e.Seq, &e.ID, &e.RequestID, &e.AppID, &e.App, &e.ScriptID, &e.Script,
		&e.Version, &e.Method, &e.Path, &e.Status, &e.Outcome, &e.Error, &us, &e.StartedAt, &e.LogCount)
	e.DurationMS = durationMS(us)
	e.StartedAt = e.StartedAt.UTC()
	return e, err
}

// ListExecutions returns one page of executions matching f, newest first
// (oldest first with p.Asc), and the cursor of the next page (0 at the
// end). With withLines each execution carries its lines (at or above
// f.MinLevel).
func (m *Manager) ListExecutions(ctx context.Context, f LogFilter, p Page, withLines bool) ([]Execution, int64, error) {
	var args []any
	limit := p.limit()
	sql := `SELECT ` + executionColumns + executionFrom + f.where(p, false, &args) + order(p, "e.id") + fmt.Sprintf(" LIMIT %d", limit+1)
	rows, err := m.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing executions: %w", err)
	}
	execs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Execution, error) { return scanExecution(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("listing executions: %w", err)
	}
	var next int64
	if len(execs) > limit {
		execs = execs[:limit]
		next = execs[limit-1].Seq
	}
	if withLines && len(execs) > 0 {
		if err := m.attachLines(ctx, execs, f.MinLevel); err != nil {
			return nil, 0, err
		}
	}
	return execs, next, nil
}

func (m *Manager) attachLines(ctx context.Context, execs []Execution, minLevel int) error {
	ids := make([]int64, len(execs))
	at := make(map[int64]int, len(execs))
	for i, e := range execs {
		ids[i] = e.Seq
		at[e.Seq] = i
	}
	rows, err := m.pool.Query(ctx, `SELECT exec_id, id, time, level, message FROM execution_logs
		WHERE exec_id = ANY($1) AND level >= $2 ORDER BY id`, ids, int16(max(minLevel, 0)))
	if err != nil {
		return fmt.Errorf("loading log lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ex int64
		var lv int16
		var le LogEntry
		if err := rows.Scan(&ex, &le.Seq, &le.Time, &lv, &le.Message); err != nil {
			return fmt.Errorf("loading log lines: %w", err)
		}
		le.Level, le.Time = levelName(lv), le.Time.UTC()
		i := at[ex]
		execs[i].Logs = append(execs[i].Logs, le)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading log lines: %w", err)
	}
	return nil
}

// ListLogs returns one page of console lines matching f, newest first
// (oldest first with p.Asc), and the cursor of the next page (0 at the
// end).
func (m *Manager) ListLogs(ctx context.Context, f LogFilter, p Page) ([]LogEntry, int64, error) {
	var args []any
	limit := p.limit()
	sql := `SELECT l.id, l.time, l.level, l.message, e.execution_id, e.app_id, a.slug, e.script_id, coalesce(s.name, ''), e.outcome
		FROM execution_logs l JOIN executions e ON e.id = l.exec_id JOIN apps a ON a.id = l.app_id
		LEFT JOIN scripts s ON s.id = l.script_id ` + f.where(p, true, &args) + order(p, "l.id") + fmt.Sprintf(" LIMIT %d", limit+1)
	rows, err := m.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing logs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LogEntry, error) {
		var le LogEntry
		var lv int16
		err := r.Scan(&le.Seq, &le.Time, &lv, &le.Message, &le.ExecutionID, &le.AppID, &le.App, &le.ScriptID, &le.Script, &le.Outcome)
		le.Level, le.Time = levelName(lv), le.Time.UTC()
		return le, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("listing logs: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq
	}
	return out, next, nil
}

// LatestExecutionSeq returns the newest execution's Seq, 0 when none.
func (m *Manager) LatestExecutionSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := m.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM executions`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading latest execution: %w", err)
	}
	return seq, nil
}

// broadcaster fans stored executions out to live tails. A subscriber that
// falls behind is cut off (its channel closed with lagged set) and catches
// up from the database, so a slow reader never slows the writer.
type broadcaster struct {
	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
}

type subscription struct {
	C      chan Execution
	filter LogFilter
	lagged atomic.Bool
}

// match reports whether e passes the filter, trimming its lines to the
// level asked for. An execution with no line at that level is skipped.
func (f LogFilter) match(e Execution) (Execution, bool) {
	if (f.AppID != "" && e.AppID != f.AppID) || (f.ScriptID != "" && e.ScriptID != f.ScriptID) ||
		(f.Outcome != "" && e.Outcome != f.Outcome) || (f.ExecutionID != "" && e.ID != f.ExecutionID) {
		return e, false
	}
	if f.MinLevel <= 0 {
		return e, true
	}
	var kept []LogEntry
	for _, l := range e.Logs {
		if n, _ := levelNumber(l.Level); n >= f.MinLevel {
			kept = append(kept, l)
		}
	}
	e.Logs = kept
	return e, len(kept) > 0
}

func (b *broadcaster) subscribe(f LogFilter) *subscription {
	s := &subscription{C: make(chan Execution, 256), filter: f}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.C)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// close ends every subscription (not lagged) and refuses new ones.
func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.C)
	}
}

func (b *broadcaster) unsubscribe(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.C)
	}
}

func (b *broadcaster) publish(execs []Execution) {
	if len(execs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		for _, e := range execs {
			e, ok := s.filter.match(e)
			if !ok {
				continue
			}
			select {
			case s.C <- e:
			default:
				s.lagged.Store(true)
				delete(b.subs, s)
				close(s.C)
			}
			if s.lagged.Load() {
				break
			}
		}
	}
}

// subscriberCount is for tests.
func (b *broadcaster) subscriberCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
