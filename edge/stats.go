package edge

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Stats is a snapshot of this server's numbers, the same ones /metrics
// exposes, for the admin API's JSON view (node hands it to the manager).
type Stats struct {
	GateInUse      int
	GateCapacity   int
	GateRejections int64            // 503s since start because every slot was taken
	Requests       int64            // HTTP requests served since start
	Executions     map[string]int64 // by outcome, since start
	Runtime        PoolStats        // zero when Config.RuntimeStats is unset
}

// Stats reads the counters and gauges at call time.
func (s *Server) Stats() Stats {
	st := Stats{
		GateInUse:    len(s.gate),
		GateCapacity: cap(s.gate),
		Executions:   map[string]int64{},
	}
	collect(s.metrics.rejections, func(_ map[string]string, v float64) { st.GateRejections += int64(v) })
	collect(s.metrics.requests, func(_ map[string]string, v float64) { st.Requests += int64(v) })
	collect(s.metrics.executions, func(l map[string]string, v float64) { st.Executions[l["outcome"]] += int64(v) })
	if s.cfg.RuntimeStats != nil {
		st.Runtime = s.cfg.RuntimeStats.PoolStats()
	}
	return st
}

// collect calls f with the labels and value of every counter series of c.
func collect(c prometheus.Collector, f func(labels map[string]string, v float64)) {
	ch := make(chan prometheus.Metric, 16)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil || d.Counter == nil {
			continue
		}
		labels := make(map[string]string, len(d.Label))
		for _, lp := range d.Label {
			labels[lp.GetName()] = lp.GetValue()
		}
		f(labels, d.Counter.GetValue())
	}
}
