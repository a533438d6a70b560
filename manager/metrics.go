package manager

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// NodeStats is this node's numbers at one moment: the edge's gate and
// counters since start and the runtime's pools (filled by node from the
// edge and the runtime, so the manager imports neither), and the
// manager's own Postgres pool.
type NodeStats struct {
	Gate       GateStats        `json:"gate"`
	Requests   int64            `json:"requests"`   // HTTP requests served since start
	Executions map[string]int64 `json:"executions"` // by outcome, since start
	Runtime    RuntimeStats     `json:"runtime"`
	Database   DatabaseStats    `json:"database"`
}

// GateStats is the edge's execution gate.
type GateStats struct {
	InUse      int   `json:"in_use"`
	Capacity   int   `json:"capacity"`
	Rejections int64 `json:"rejections"` // 503s since start because every slot was taken
}

// RuntimeStats is the runtime's instance pools.
type RuntimeStats struct {
	Pools     int `json:"pools"`
	Idle      int `json:"idle"`
	Busy      int `json:"busy"`
	Instances int `json:"instances"`
}

// DatabaseStats is the Postgres connection pool.
type DatabaseStats struct {
	Total    int `json:"total"`
	Idle     int `json:"idle"`
	Acquired int `json:"acquired"`
	Max      int `json:"max"`
}

// NodeStatsSource reports NodeStats at call time; node satisfies it.
type NodeStatsSource interface {
	NodeStats() NodeStats
}

// Limits of the metrics query.
const (
	maxMetricBuckets   = 1000
	defaultMetricRange = time.Hour
	// autoMetricBuckets is about how many buckets an unset step gives.
	autoMetricBuckets = 60
)

// MetricsQuery selects the executions to aggregate.
type MetricsQuery struct {
	AppID    string
	ScriptID string // "" for every script of the app
	Since    time.Time
	Until    time.Time
	Step     time.Duration // whole seconds
}

// MetricPoint aggregates the executions of one script (or all) in one
// bucket or over the whole range. Errors counts every outcome other than
// success; Timeouts and Limits are part of it.
type MetricPoint struct {
	Time     *time.Time `json:"time,omitempty"` // start of the bucket; absent on totals
	Count    int64      `json:"count"`
	Errors   int64      `json:"errors"`
	Timeouts int64      `json:"timeouts"`
	Limits   int64      `json:"limits"`
	P50MS    float64    `json:"p50_ms"`
	P95MS    float64    `json:"p95_ms"`
	MaxMS    float64    `json:"max_ms"`
}

// ScriptMetrics is one script's buckets (only those with executions,
// oldest first) and totals.
type ScriptMetrics struct {
	ScriptID string        `json:"script_id"`
	Script   string        `json:"script"` // "" once the script is deleted
	Totals   MetricPoint   `json:"totals"`
	Buckets  []MetricPoint `json:"buckets"`
}

// Metrics is the answer of GET /metrics.
type Metrics struct {
	App         string          `json:"app"`
	AppID       string          `json:"app_id"`
	Since       time.Time       `json:"since"`
	Until       time.Time       `json:"until"`
	StepSeconds int64           `json:"step_seconds"`
	Totals      MetricPoint     `json:"totals"`
	Scripts     []ScriptMetrics `json:"scripts"`
	Node        *NodeStats      `json:"node,omitempty"`
}

// ExecutionMetrics aggregates stored executions per script into time
// buckets aligned to multiples of q.Step since the Unix epoch. It reads
// the execution log, so it covers every node of a cluster and survives
// restarts, within the log's retention.
func (m *Manager) ExecutionMetrics(ctx context.Context, q MetricsQuery) (MetricPoint, []ScriptMetrics, error) {
	step := int64(q.Step / time.Second)
	if step < 1 {
		return MetricPoint{}, nil, fmt.Errorf("metrics step %v is under a second", q.Step)
	}
	var script any
	if q.ScriptID != "" {
		script = q.ScriptID
	}
	// GROUPING(...) tells the three grouping sets apart: 0 a bucket of a
	// script, 1 a script's totals, 3 the app's totals.
	rows, err := m.pool.Query(ctx, `
		SELECT GROUPING(e.script_id, e.b), coalesce(e.script_id::text, ''), coalesce(max(s.name), ''),
		       coalesce(e.b, 0), count(*),
		       count(*) FILTER (WHERE e.outcome <> 'success'),
		       count(*) FILTER (WHERE e.outcome = 'timeout'),
		       count(*) FILTER (WHERE e.outcome = 'limit'),
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_us),
		       percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_us),
		       max(e.duration_us)
		FROM (SELECT script_id, outcome, duration_us,
		             floor(extract(epoch FROM started_at) / $4)::bigint * $4 AS b
		      FROM executions
		      WHERE app_id = $1 AND started_at >= $2 AND started_at < $3
		        AND ($5::uuid IS NULL OR script_id = $5::uuid)) e
		LEFT JOIN scripts s ON s.id = e.script_id
		GROUP BY GROUPING SETS ((e.script_id, e.b), (e.script_id), ())
		ORDER BY 2, 1 DESC, 4`, q.AppID, q.Since, q.Until, step, script)
	if err != nil {
		return MetricPoint{}, nil, fmt.Errorf("aggregating executions: %w", err)
	}
	defer rows.Close()
	var total MetricPoint
	var out []ScriptMetrics
	for rows.Next() {
		var grouping int
		var id, name string
		var bucket int64
		var p MetricPoint
		var p50, p95 *float64
		var maxUS *int64
		if err := rows.Scan(&grouping, &id, &name, &bucket, &p.Count, &p.Errors, &p.Timeouts, &p.Limits, &p50, &p95, &maxUS); err != nil {
			return MetricPoint{}, nil, fmt.Errorf("aggregating executions: %w", err)
		}
		p.P50MS, p.P95MS = usToMS(p50), usToMS(p95)
		if maxUS != nil {
			p.MaxMS = float64(*maxUS) / 1000
		}
		switch grouping {
		case 3:
			total = p
		case 1:
			out = append(out, ScriptMetrics{ScriptID: id, Script: name, Totals: p, Buckets: []MetricPoint{}})
		case 0:
			t := time.Unix(bucket, 0).UTC()
			p.Time = &t
			// Rows come ordered by script, totals first.
			if n := len(out); n > 0 && out[n-1].ScriptID == id {
				out[n-1].Buckets = append(out[n-1].Buckets, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return MetricPoint{}, nil, fmt.Errorf("aggregating executions: %w", err)
	}
	if out == nil {
		out = []ScriptMetrics{}
	}
	return total, out, nil
}

func usToMS(v *float64) float64 {
	if v == nil {
		return 0
	}
	return math.Round(*v) / 1000
}

// metricsQueryParams are the query parameters GET /metrics accepts.
var metricsQueryParams = map[string]bool{"app": true, "script": true, "since": true, "until": true, "step": true, "node": true}

// parseStep accepts a Go duration ("30s", "5m") or whole seconds ("60").
func parseStep(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// autoStep picks a round step giving about autoMetricBuckets buckets.
func autoStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
		15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour} {
		if span/s <= autoMetricBuckets {
			return s
		}
	}
	return 24 * time.Hour
}

// handleMetrics answers per-script requests, errors and latency over time
// from the execution log, plus this node's live numbers.
func (m *Manager) handleMetrics(c *gin.Context) error {
	q := c.Request.URL.Query()
	for k := range q {
		if !metricsQueryParams[k] {
			return &Error{Status: http.StatusBadRequest, Code: "unknown_parameter",
				Message: fmt.Sprintf("unknown query parameter %q (accepted: app, script, since, until, step, node)", k)}
		}
	}
	ctx := c.Request.Context()
	appRef := q.Get("app")
	if appRef == "" {
		appRef = "default"
	}
	app, err := m.appFor(c, appRef, CapLogsRead)
	if err != nil {
		return err
	}
	mq := MetricsQuery{AppID: app.ID}
	if ref := q.Get("script"); ref != "" {
		if mq.ScriptID, err = m.resolveScriptRef(ctx, app.ID, ref); err != nil {
			return err
		}
	}
	now := m.now()
	if mq.Until, err = parseTimeParam("until", q.Get("until"), now); err != nil {
		return err
	}
	if mq.Until.IsZero() {
		mq.Until = now
	}
	if mq.Since, err = parseTimeParam("since", q.Get("since"), now); err != nil {
		return err
	}
	if mq.Since.IsZero() {
		mq.Since = mq.Until.Add(-defaultMetricRange)
	}
	if !mq.Since.Before(mq.Until) {
		return invalid("invalid_time", "since (%s) must be before until (%s)", mq.Since.Format(time.RFC3339), mq.Until.Format(time.RFC3339))
	}
	span := mq.Until.Sub(mq.Since)
	if v := q.Get("step"); v != "" {
		mq.Step, err = parseStep(v)
		if err != nil || mq.Step < time.Second || mq.Step%time.Second != 0 {
			return invalid("invalid_step", "step=%q must be a whole number of seconds, at least 1 (60, 30s, 5m)", v)
		}
	} else {
		mq.Step = autoStep(span)
	}
	if n := span / mq.Step; n > maxMetricBuckets {
		return invalid("invalid_step", "step %v over %v gives %d buckets; at most %d (use a larger step)", mq.Step, span.Round(time.Second), n, maxMetricBuckets)
	}
	// Align since down to a bucket so the first bucket is whole.
	step := int64(mq.Step / time.Second)
	mq.Since = time.Unix(mq.Since.Unix()/step*step, 0).UTC()
	total, scripts, err := m.ExecutionMetrics(ctx, mq)
	if err != nil {
		return err
	}
	out := Metrics{App: app.Slug, AppID: app.ID, Since: mq.Since, Until: mq.Until.UTC(), StepSeconds: step,
		Totals: total, Scripts: scripts}
	if m.nodeStats != nil && !strings.EqualFold(q.Get("node"), "false") {
		ns := m.nodeStats.NodeStats()
		ps := m.PoolStat()
		ns.Database = DatabaseStats{Total: ps.Total, Idle: ps.Idle, Acquired: ps.Acquired, Max: ps.Max}
		out.Node = &ns
	}
	c.JSON(http.StatusOK, out)
	return nil
}
