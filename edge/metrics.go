package edge

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picloud/picloud/runtime"
)

// PoolStats is a snapshot of the runtime's instance pools.
type PoolStats struct {
	Pools     int // script versions with a pool
	Idle      int // idle instances kept warm
	Busy      int // instances executing now
	Instances int // instances created since start
}

// RuntimeStats reports the runtime's pools at scrape time. node adapts the
// runtime's own stats method to it.
type RuntimeStats interface {
	PoolStats() PoolStats
}

// DBStats is a snapshot of the Postgres connection pool (pgxpool.Stat).
type DBStats struct {
	Total, Idle, Acquired, Constructing, Max int
	AcquireCount, EmptyAcquireCount          int64
	CanceledAcquireCount                     int64
	AcquireDurationSeconds                   float64
}

// DatabaseStats reports the Postgres pool at scrape time; the manager
// satisfies it through node.
type DatabaseStats interface {
	DBStats() DBStats
}

// metrics are one Server's Prometheus collectors, on a registry of their
// own so two servers in one process never share counters.
type metrics struct {
	reg        *prometheus.Registry
	handler    http.Handler
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	executions *prometheus.CounterVec
	execTime   *prometheus.HistogramVec
	rejections prometheus.Counter
	cache      *prometheus.CounterVec
	rebuilds   prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_http_requests_total",
			Help: "HTTP requests served, by app, script, route and status class (2xx..5xx).",
		}, []string{"app", "script", "route", "status_class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_http_request_duration_seconds",
			Help:    "Time from request to the end of the response, by app and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"app", "route"}),
		executions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_executions_total",
			Help: "Script executions by outcome (success, error, timeout, limit).",
		}, []string{"outcome"}),
		execTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_execution_duration_seconds",
			Help:    "Time spent inside the runtime per execution, by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		rejections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "picloud_gate_rejections_total",
			Help: "Requests refused with 503 because every execution slot was taken.",
		}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_script_cache_total",
			Help: "Edge script cache lookups by result (hit, miss).",
		}, []string{"result"}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "picloud_routing_rebuilds_total",
			Help: "Times the dispatch tables were rebuilt after a change.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.executions, m.execTime, m.rejections, m.cache, m.rebuilds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "picloud_gate_in_use", Help: "Execution slots taken now.",
		}, func() float64 { return float64(len(s.gate)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "picloud_gate_capacity", Help: "Execution slots in total (PICLOUD_MAX_CONCURRENT_EXECUTIONS).",
		}, func() float64 { return float64(cap(s.gate)) }),
	)
	if s.cfg.RuntimeStats != nil {
		reg.MustRegister(&poolCollector{src: s.cfg.RuntimeStats})
	}
	if s.cfg.DatabaseStats != nil {
		reg.MustRegister(&dbCollector{src: s.cfg.DatabaseStats})
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	// Pre-create the outcome series so a scrape shows them at zero.
	for _, o := range []runtime.Outcome{runtime.OutcomeSuccess, runtime.OutcomeError, runtime.OutcomeTimeout, runtime.OutcomeLimit} {
		m.executions.WithLabelValues(string(o))
	}
	m.cache.WithLabelValues("hit")
	m.cache.WithLabelValues("miss")
	return m
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

var (
	poolDesc = map[string]*prometheus.Desc{
		"pools":     prometheus.NewDesc("picloud_runtime_pools", "Script versions with an instance pool.", nil, nil),
		"idle":      prometheus.NewDesc("picloud_runtime_instances_idle", "Idle runtime instances kept warm.", nil, nil),
		"busy":      prometheus.NewDesc("picloud_runtime_instances_busy", "Runtime instances executing now.", nil, nil),
		"instances": prometheus.NewDesc("picloud_runtime_instances_created_total", "Runtime instances created since start.", nil, nil),
	}
	dbDesc = map[string]*prometheus.Desc{
		"total":        prometheus.NewDesc("picloud_db_pool_connections", "Postgres connections in the pool.", nil, nil),
		"idle":         prometheus.NewDesc("picloud_db_pool_idle_connections", "Idle Postgres connections.", nil, nil),
		"acquired":     prometheus.NewDesc("picloud_db_pool_acquired_connections", "Postgres connections in use.", nil, nil),
		"constructing": prometheus.NewDesc("picloud_db_pool_constructing_connections", "Postgres connections being opened.", nil, nil),
		"max":          prometheus.NewDesc("picloud_db_pool_max_connections", "Maximum Postgres pool size.", nil, nil),
		"acquires":     prometheus.NewDesc("picloud_db_pool_acquires_total", "Successful connection acquisitions.", nil, nil),
		"empty":        prometheus.NewDesc("picloud_db_pool_empty_acquires_total", "Acquisitions that had to wait for a connection.", nil, nil),
		"canceled":     prometheus.NewDesc("picloud_db_pool_canceled_acquires_total", "Acquisitions canceled by their context.", nil, nil),
		"wait":         prometheus.NewDesc("picloud_db_pool_acquire_seconds_total", "Total time spent acquiring connections.", nil, nil),
	}
)

type poolCollector struct{ src RuntimeStats }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range poolDesc {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.PoolStats()
	ch <- prometheus.MustNewConstMetric(poolDesc["pools"], prometheus.GaugeValue, float64(st.Pools))
	ch <- prometheus.MustNewConstMetric(poolDesc["idle"], prometheus.GaugeValue, float64(st.Idle))
	ch <- prometheus.MustNewConstMetric(poolDesc["busy"], prometheus.GaugeValue, float64(st.Busy))
	ch <- prometheus.MustNewConstMetric(poolDesc["instances"], prometheus.CounterValue, float64(st.Instances))
}

type dbCollector struct{ src DatabaseStats }

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range dbDesc {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.DBStats()
	g := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(dbDesc[name], prometheus.GaugeValue, v)
	}
	cn := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(dbDesc[name], prometheus.CounterValue, v)
	}
	g("total", float64(st.Total))
	g("idle", float64(st.Idle))
	g("acquired", float64(st.Acquired))
	g("constructing", float64(st.Constructing))
	g("max", float64(st.Max))
	cn("acquires", float64(st.AcquireCount))
	cn("empty", float64(st.EmptyAcquireCount))
	cn("canceled", float64(st.CanceledAcquireCount))
	cn("wait", st.AcquireDurationSeconds)
}
