package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
)

// registerLogRoutes mounts the execution log endpoints on an authenticated
// group. Every handler checks CapLogsRead on the one app it reads, in
// logFilter or handleGetExecution.
func (m *Manager) registerLogRoutes(g gin.IRoutes) {
	g.GET("/executions", m.h(m.handleListExecutions))
	g.GET("/executions/:id", m.h(m.handleGetExecution))
	g.GET("/logs", m.h(m.handleListLogs))
	g.GET("/logs/tail", m.h(m.handleTailLogs))
}

// tailHeartbeat keeps idle streams (and the proxies in between) alive.
const tailHeartbeat = 15 * time.Second

// logQueryParams are the query parameters the log endpoints accept;
// anything else is refused so a typo does not silently widen a filter.
var logQueryParams = map[string]bool{
	"app": true, "script": true, "execution": true, "level": true, "outcome": true,
	"since": true, "until": true, "cursor": true, "limit": true, "lines": true,
}

// logFilter reads the filter query parameters shared by every log endpoint.
func (m *Manager) logFilter(c *gin.Context) (LogFilter, error) {
	q := c.Request.URL.Query()
	for k := range q {
		if !logQueryParams[k] {
			return LogFilter{}, &Error{Status: http.StatusBadRequest, Code: "unknown_parameter",
				Message: fmt.Sprintf("unknown query parameter %q (accepted: app, script, execution, level, outcome, since, until, cursor, limit)", k)}
		}
	}
	ctx := c.Request.Context()
	f := LogFilter{MinLevel: LevelAny, ExecutionID: q.Get("execution")}
	appRef, scriptRef := q.Get("app"), q.Get("script")
	if appRef == "" && uuidPattern.MatchString(scriptRef) {
		// A script id alone names its app.
		if err := m.scriptFor(c, scriptRef, CapLogsRead); err != nil {
			return f, err
		}
		appID, err := m.ScriptApp(ctx, scriptRef)
		if err != nil {
			return f, err
		}
		f.AppID, f.ScriptID = appID, strings.ToLower(scriptRef)
	} else {
		if appRef == "" {
			appRef = "default"
		}
		app, err := m.appFor(c, appRef, CapLogsRead)
		if err != nil {
			return f, err
		}
		f.AppID = app.ID
		if scriptRef != "" {
			id, err := m.resolveScriptRef(ctx, app.ID, scriptRef)
			if err != nil {
				return f, err
			}
			f.ScriptID = id
		}
	}
	if lv := q.Get("level"); lv != "" {
		n, ok := levelNumber(strings.ToLower(lv))
		if !ok {
			return f, invalid("invalid_level", "level %q is not one of debug, info, warn, error", lv)
		}
		f.MinLevel = n
	}
	if o := q.Get("outcome"); o != "" {
		if !outcomes[o] {
			return f, invalid("invalid_outcome", "outcome %q is not one of success, error, timeout, limit", o)
		}
		f.Outcome = o
	}
	var err error
	if f.Since, err = parseTimeParam("since", q.Get("since"), m.now()); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeParam("until", q.Get("until"), m.now()); err != nil {
		return f, err
	}
	return f, nil
}

// resolveScriptRef finds a script by id, or by name within an app. An id
// of another app's script is kept: the filter's app makes it match nothing.
func (m *Manager) resolveScriptRef(ctx context.Context, appID, ref string) (string, error) {
	if uuidPattern.MatchString(ref) {
		return strings.ToLower(ref), nil
	}
	var id string
	err := m.pool.QueryRow(ctx, `SELECT id FROM scripts WHERE app_id = $1 AND name = $2`, appID, ref).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound("script", ref)
	}
	if err != nil {
		return "", fmt.Errorf("looking up script %q: %w", ref, err)
	}
	return id, nil
}

// parseTimeParam accepts RFC 3339 or a duration back from now ("15m").
func parseTimeParam(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalid("invalid_time", "%s=%q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration back from now (15m, 2h)", name, v)
	}
	return t, nil
}

// logPage reads cursor and limit.
func logPage(c *gin.Context) (Page, error) {
	p := Page{Limit: 50}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, invalid("invalid_limit", "limit=%q must be a number from 1 to %d", v, MaxPageSize)
		}
		p.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return p, invalid("invalid_cursor", "cursor=%q is not a cursor from next_cursor", v)
		}
		p.Before = n
	}
	return p, nil
}

func cursorString(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func (m *Manager) handleListExecutions(c *gin.Context) error {
	f, err := m.logFilter(c)
	if err != nil {
		return err
	}
	p, err := logPage(c)
	if err != nil {
		return err
	}
	execs, next, err := m.ListExecutions(c.Request.Context(), f, p, c.Query("lines") == "true")
	if err != nil {
		return err
	}
	if execs == nil {
		execs = []Execution{}
	}
	c.JSON(http.StatusOK, gin.H{"executions": execs, "next_cursor": cursorString(next)})
	return nil
}

func (m *Manager) handleGetExecution(c *gin.Context) error {
	id := c.Param("id")
	execs, _, err := m.ListExecutions(c.Request.Context(), LogFilter{ExecutionID: id, MinLevel: LevelAny}, Page{Limit: 1}, true)
	if err != nil {
		return err
	}
	if len(execs) == 0 {
		return notFound("execution", id)
	}
	if err := checkApp(c, execs[0].AppID, id, CapLogsRead); errors.Is(err, ErrNotFound) {
		return notFound("execution", id)
	} else if err != nil {
		return err
	}
	c.JSON(http.StatusOK, execs[0])
	return nil
}

func (m *Manager) handleListLogs(c *gin.Context) error {
	f, err := m.logFilter(c)
	if err != nil {
		return err
	}
	p, err := logPage(c)
	if err != nil {
		return err
	}
	lines, next, err := m.ListLogs(c.Request.Context(), f, p)
	if err != nil {
		return err
	}
	if lines == nil {
		lines = []LogEntry{}
	}
	c.JSON(http.StatusOK, gin.H{"logs": lines, "next_cursor": cursorString(next)})
	return nil
}

// handleTailLogs streams executions (with their console lines) as
// Server-Sent Events, one `execution` event each, its id the execution's
// seq. A client that reconnects with Last-Event-ID gets what it missed
// first. A stream that falls behind catches up from the database.
func (m *Manager) handleTailLogs(c *gin.Context) error {
	f, err := m.logFilter(c)
	if err != nil {
		return err
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		return invalid("invalid_parameter", "since and until do not apply to a live tail; list with GET /logs or /executions instead")
	}
	ctx := c.Request.Context()
	var last int64
	if v := c.GetHeader("Last-Event-ID"); v != "" {
		last, err = strconv.ParseInt(v, 10, 64)
		if err != nil || last < 0 {
			return invalid("invalid_last_event_id", "Last-Event-ID %q is not an event id of this stream", v)
		}
	} else if last, err = m.LatestExecutionSeq(ctx); err != nil {
		return err
	}

	// gin's Flush silently does nothing when the writer below is not an
	// http.Flusher (Caddy's only has FlushError), so flush below gin.
	var below http.ResponseWriter = c.Writer
	if u, ok := below.(interface{ Unwrap() http.ResponseWriter }); ok {
		below = u.Unwrap()
	}
	rc := http.NewResponseController(below)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	// A first comment commits the headers so the client knows it is
	// connected before any execution happens.
	if _, err := fmt.Fprint(c.Writer, ": connected\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		m.log.Warn("log tail cannot flush", "err", err)
		return nil
	}
	send := func(e Execution) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: execution\ndata: %s\n\n", e.Seq, b); err != nil {
			return err
		}
		last = e.Seq
		return rc.Flush()
	}
	heartbeat := time.NewTicker(tailHeartbeat)
	defer heartbeat.Stop()
	for {
		// Subscribe before catching up, so nothing stored in between is
		// missed; duplicates are skipped by seq.
		sub := m.logs.bc.subscribe(f)
		for {
			execs, _, err := m.ListExecutions(ctx, f, Page{After: last, Asc: true, Limit: MaxPageSize}, true)
			if err != nil {
				m.logs.bc.unsubscribe(sub)
				if ctx.Err() == nil {
					m.log.Warn("log tail catch-up failed", "err", err)
				}
				return nil
			}
			for _, e := range execs {
				if f.MinLevel > 0 && len(e.Logs) == 0 {
					continue
				}
				if err := send(e); err != nil {
					m.logs.bc.unsubscribe(sub)
					return nil
				}
			}
			if len(execs) < MaxPageSize {
				break
			}
		}
	stream:
		for {
			select {
			case <-ctx.Done():
				m.logs.bc.unsubscribe(sub)
				return nil
			case <-heartbeat.C:
				if _, err := fmt.Fprint(c.Writer, ": ping\n\n"); err != nil || rc.Flush() != nil {
					m.logs.bc.unsubscribe(sub)
					return nil
				}
			case e, ok := <-sub.C:
				if !ok {
					if sub.lagged.Load() {
						break stream // catch up from the database
					}
					return nil // the manager is shutting down
				}
				if e.Seq <= last {
					continue
				}
				if err := send(e); err != nil {
					m.logs.bc.unsubscribe(sub)
					return nil
				}
			}
		}
	}
}
