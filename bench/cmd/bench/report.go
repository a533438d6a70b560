package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// errNoResult means wrk's output lacks the line bench.lua's done() prints.
var errNoResult = errors.New("no BENCHRESULT line in wrk output")

// WrkResult is what bench/wrk/bench.lua prints at the end of a run.
type WrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Bytes      int64 `json:"bytes"`
	Errors     struct {
		Connect int64 `json:"connect"`
		Read    int64 `json:"read"`
		Write   int64 `json:"write"`
		Status  int64 `json:"status"`
		Timeout int64 `json:"timeout"`
	} `json:"errors"`
	Latency struct {
		Mean float64 `json:"mean"`
		Max  int64   `json:"max"`
		P50  int64   `json:"p50"`
		P90  int64   `json:"p90"`
		P99  int64   `json:"p99"`
		P999 int64   `json:"p999"`
	} `json:"latency_us"`
}

// TotalErrors counts every failed request: socket errors, timeouts and
// non-2xx/3xx statuses.
func (w WrkResult) TotalErrors() int64 {
	e := w.Errors
	return e.Connect + e.Read + e.Write + e.Status + e.Timeout
}

// RPS is requests per second over wrk's own measured duration.
func (w WrkResult) RPS() float64 {
	if w.DurationUS <= 0 {
		return 0
	}
	return float64(w.Requests) / (float64(w.DurationUS) / 1e6)
}

// ParseWrk finds the BENCHRESULT line in wrk's output.
func ParseWrk(out string) (WrkResult, error) {
	var r WrkResult
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "BENCHRESULT ")
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return r, fmt.Errorf("parsing wrk result: %w", err)
		}
		return r, nil
	}
	return r, errNoResult
}

// Run is one measured run of one contestant on one workload.
type Run struct {
	Contestant string
	Workload   string
	Rep        int
	Wrk        WrkResult
	CPU        time.Duration // server user+sys over the run, its whole process tree
	CPUMain    time.Duration // the same for the main process alone
	RSSLoad    int64         // bytes, the largest main-process RSS sampled during the run
}

// CPUPerRequest is server CPU divided by the requests wrk completed.
func (r Run) CPUPerRequest() time.Duration {
	if r.Wrk.Requests == 0 {
		return 0
	}
	return time.Duration(int64(r.CPU) / r.Wrk.Requests)
}

// Summary is the median over the repetitions of one contestant and workload.
type Summary struct {
	Contestant string
	Workload   string
	Reps       int
	RPS        float64
	RPSMin     float64
	RPSMax     float64
	P50        time.Duration
	P99        time.Duration
	P999       time.Duration
	CPUPerReq  time.Duration
	CPUMin     time.Duration
	CPUMax     time.Duration
	CPUMainReq time.Duration // median main-process CPU per request
	Errors     int64         // summed over the repetitions
	Requests   int64         // summed over the repetitions
	RSSIdle    int64         // bytes, main process, before any load
	RSSLoad    int64         // bytes, main process, the largest seen under load
	TreeIdle   int64         // bytes, PSS of the whole process tree before any load
}

// median of a non-empty slice; the mean of the two middle values for an
// even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(xs []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if len(xs) == 0 {
		return 0, 0
	}
	return lo, hi
}

// Summarize groups runs by contestant and workload, in the order in which
// each pair first appears, and takes medians over the repetitions.
func Summarize(runs []Run) []Summary {
	type key struct{ c, w string }
	var order []key
	groups := map[key][]Run{}
	for _, r := range runs {
		k := key{r.Contestant, r.Workload}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Summary, 0, len(order))
	for _, k := range order {
		rs := groups[k]
		var rps, p50, p99, p999, cpu, cpuMain []float64
		s := Summary{Contestant: k.c, Workload: k.w, Reps: len(rs)}
		for _, r := range rs {
			rps = append(rps, r.Wrk.RPS())
			p50 = append(p50, float64(r.Wrk.Latency.P50))
			p99 = append(p99, float64(r.Wrk.Latency.P99))
			p999 = append(p999, float64(r.Wrk.Latency.P999))
			cpu = append(cpu, float64(r.CPUPerRequest()))
			if r.Wrk.Requests > 0 {
				cpuMain = append(cpuMain, float64(r.CPUMain)/float64(r.Wrk.Requests))
			}
			s.Errors += r.Wrk.TotalErrors()
			s.Requests += r.Wrk.Requests
			s.RSSLoad = max(s.RSSLoad, r.RSSLoad)
		}
		s.RPS = median(rps)
		s.RPSMin, s.RPSMax = minMax(rps)
		us := func(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }
		s.P50, s.P99, s.P999 = us(median(p50)), us(median(p99)), us(median(p999))
		s.CPUPerReq = time.Duration(median(cpu))
		s.CPUMainReq = time.Duration(median(cpuMain))
		lo, hi := minMax(cpu)
		s.CPUMin, s.CPUMax = time.Duration(lo), time.Duration(hi)
		out = append(out, s)
	}
	return out
}

// Ratio is value/base, or NaN when either is missing.
func Ratio(value, base float64) float64 {
	if base == 0 || value == 0 {
		return math.NaN()
	}
	return value / base
}

// find returns the summary of contestant c on workload w.
func find(sums []Summary, c, w string) (Summary, bool) {
	for _, s := range sums {
		if s.Contestant == c && s.Workload == w {
			return s, true
		}
	}
	return Summary{}, false
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func fmtMB(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "–"
	}
	return fmt.Sprintf("%.2fx", r)
}

// Report is everything the markdown page shows.
type Report struct {
	Title       string
	Started     time.Time
	Finished    time.Time
	Machine     []string // "key: value" lines
	Settings    []string
	Base        string // the contestant ratios are taken against
	Contestants []string
	Workloads   []string
	Skipped     map[string]string // contestant or contestant/workload -> why
	Runs        []Run
	Idle        map[string][2]int64 // "contestant/workload" -> main RSS, tree PSS before load
	Extra       []Section           // cold, fanout, density
	Measured    Measured            // PiCloud's cold and density figures for the targets
	Chart       string              // file name of the PNG, beside the markdown
}

// Section is a titled free-form part of the report (a small table).
type Section struct {
	Title string
	Lines []string
}

// Markdown renders the report.
func (r Report) Markdown() string {
	sums := Summarize(r.Runs)
	for i := range sums {
		idle := r.Idle[sums[i].Contestant+"/"+sums[i].Workload]
		sums[i].RSSIdle, sums[i].TreeIdle = idle[0], idle[1]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	fmt.Fprintf(&b, "Run %s to %s (UTC).\n\n", r.Started.UTC().Format("2006-01-02 15:04:05"), r.Finished.UTC().Format("15:04:05"))
	b.WriteString("## Machine and versions\n\n")
	for _, l := range r.Machine {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	b.WriteString("\n## Settings\n\n")
	for _, l := range r.Settings {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n## Not measured\n\n")
		keys := make([]string, 0, len(r.Skipped))
		for k := range r.Skipped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "- **%s**: %s\n", k, r.Skipped[k])
		}
	}
	for _, w := range r.Workloads {
		base, hasBase := find(sums, r.Base, w)
		var rows []Summary
		for _, c := range r.Contestants {
			if s, ok := find(sums, c, w); ok {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", w)
		b.WriteString("| contestant | req/s (min–max) | p50 | p99 | p99.9 | server CPU/req (min–max) | main process CPU/req | CPU/req vs " + r.Base + " | req/s vs " + r.Base + " | RSS idle MB | RSS load MB | tree PSS idle MB | errors / requests |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, s := range rows {
			cpuRatio, rpsRatio := math.NaN(), math.NaN()
			if hasBase {
				cpuRatio = Ratio(float64(s.CPUPerReq), float64(base.CPUPerReq))
				rpsRatio = Ratio(s.RPS, base.RPS)
			}
			fmt.Fprintf(&b, "| %s | %.0f (%.0f–%.0f) | %s | %s | %s | %s (%s–%s) | %s | %s | %s | %s | %s | %s | %d / %d |\n",
				s.Contestant, s.RPS, s.RPSMin, s.RPSMax, fmtDur(s.P50), fmtDur(s.P99), fmtDur(s.P999),
				fmtDur(s.CPUPerReq), fmtDur(s.CPUMin), fmtDur(s.CPUMax), fmtDur(s.CPUMainReq), fmtRatio(cpuRatio), fmtRatio(rpsRatio),
				fmtMB(s.RSSIdle), fmtMB(s.RSSLoad), fmtMB(s.TreeIdle), s.Errors, s.Requests)
		}
	}
	if _, ok := find(sums, r.Base, "hello"); ok && r.Base == "picloud" {
		b.WriteString("\n## Targets\n\nIssue 9's targets, PiCloud's figure over the other's (not asserted in tests):\n\n")
		for _, l := range Targets(sums, r.Measured) {
			b.WriteString(l + "\n")
		}
	}
	for _, sec := range r.Extra {
		fmt.Fprintf(&b, "\n## %s\n\n", sec.Title)
		for _, l := range sec.Lines {
			b.WriteString(l + "\n")
		}
	}
	if r.Chart != "" {
		fmt.Fprintf(&b, "\n## Chart\n\n![ratios to %s](%s)\n", r.Base, r.Chart)
	}
	b.WriteString("\n## Every run\n\n| # | workload | contestant | rep | requests | req/s | p50 | p99 | p99.9 | server CPU | CPU/req | RSS load MB | errors |\n")
	b.WriteString("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	us := func(v int64) string { return fmtDur(time.Duration(v) * time.Microsecond) }
	for i, run := range r.Runs {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s | %d |\n",
			i+1, run.Workload, run.Contestant, run.Rep, run.Wrk.Requests, run.Wrk.RPS(),
			us(run.Wrk.Latency.P50), us(run.Wrk.Latency.P99), us(run.Wrk.Latency.P999),
			fmtDur(run.CPU), fmtDur(run.CPUPerRequest()), fmtMB(run.RSSLoad), run.Wrk.TotalErrors())
	}
	return b.String()
}

// Measured holds PiCloud's figures that are not load runs, for Targets.
type Measured struct {
	DeployToFirst time.Duration // median, 0 when not measured
	DensityN      int           // deployed scripts of the density figure, 0 when not measured
	DensityKB     float64       // main-process RSS growth per deployed, warmed script
}

// Targets checks issue 9's targets (PiCloud's figure over the other's)
// and renders them as a markdown table.
func Targets(sums []Summary, m Measured) []string {
	lines := []string{
		"| target (issue 9) | measured | met |",
		"| --- | --- | :---: |",
	}
	verdict := func(ok, known bool) string {
		switch {
		case !known:
			return "not measured"
		case ok:
			return "yes"
		default:
			return "**no**"
		}
	}
	cpu := func(label, w, other string, limit float64) {
		p, ok1 := find(sums, "picloud", w)
		o, ok2 := find(sums, other, w)
		r := Ratio(float64(p.CPUPerReq), float64(o.CPUPerReq))
		known := ok1 && ok2 && !math.IsNaN(r)
		got := "–"
		if known {
			got = fmt.Sprintf("%.2fx (%s vs %s)", r, fmtDur(p.CPUPerReq), fmtDur(o.CPUPerReq))
		}
		lines = append(lines, fmt.Sprintf("| %s | %s | %s |", label, got, verdict(r <= limit, known)))
	}
	cpu("hello server CPU/req ≤ 0.35x workerd's", "hello", "workerd", 0.35)
	cpu("json server CPU/req ≤ 1.0x workerd's", "json", "workerd", 1.0)
	cpu("hello server CPU/req ≤ 1.4x raw Go net/http's", "hello", "rawgo", 1.4)
	for _, w := range []string{"hello", "json"} {
		p, ok1 := find(sums, "picloud", w)
		o, ok2 := find(sums, "workerd", w)
		got := "–"
		if ok1 && ok2 {
			got = fmt.Sprintf("%s vs %s", fmtDur(p.P99), fmtDur(o.P99))
		}
		lines = append(lines, fmt.Sprintf("| %s p99 under load ≤ workerd's | %s | %s |", w, got, verdict(p.P99 <= o.P99, ok1 && ok2)))
	}
	got := "–"
	if m.DeployToFirst > 0 {
		got = fmtDur(m.DeployToFirst) + " (median, deploy + route + first 200)"
	}
	lines = append(lines, fmt.Sprintf("| deploy to first response ≤ 50 ms | %s | %s |", got, verdict(m.DeployToFirst <= 50*time.Millisecond, m.DeployToFirst > 0)))
	got = "–"
	if m.DensityN > 0 {
		got = fmt.Sprintf("%.0f KB per script at %d scripts", m.DensityKB, m.DensityN)
	}
	lines = append(lines, fmt.Sprintf("| ≤ 25 KB RSS per idle deployed script | %s | %s |", got, verdict(m.DensityKB <= 25, m.DensityN > 0)))
	return lines
}
