package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// wrkOutput is real wrk 4.1.0 output with bench.lua's line at the end.
const wrkOutput = `Running 2s test @ http://127.0.0.1:18094/json
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.90ms   17.75ms 154.26ms   88.43%
  3510 requests in 2.02s, 3.21MB read
Requests/sec:   1737.18
BENCHRESULT {"requests":3510,"duration_us":2020511,"bytes":3369600,"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":3},"latency_us":{"mean":13899.0,"max":154259,"p50":9239,"p90":34312,"p99":86389,"p999":135807}}
`

func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		wantErr error
		check   func(t *testing.T, r WrkResult)
	}{
		{name: "real output", in: wrkOutput, check: func(t *testing.T, r WrkResult) {
			if r.Requests != 3510 || r.Latency.P50 != 9239 || r.Latency.P999 != 135807 || r.TotalErrors() != 6 {
				t.Errorf("parsed %+v", r)
			}
			if rps := r.RPS(); math.Abs(rps-1737.18) > 0.01 {
				t.Errorf("RPS = %v, want 1737.18 like wrk", rps)
			}
		}},
		{name: "no result line", in: "Running 2s test\nunable to connect to 127.0.0.1:1 Connection refused\n", wantErr: errNoResult},
		{name: "broken json", in: "BENCHRESULT {\"requests\":", wantErr: errors.New("any")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseWrk(tc.in)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatal(err)
			case tc.wantErr == errNoResult && !errors.Is(err, errNoResult):
				t.Fatalf("err = %v, want errNoResult", err)
			case tc.wantErr != nil && err == nil:
				t.Fatal("no error")
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestRPSZeroDuration(t *testing.T) {
	if got := (WrkResult{Requests: 5}).RPS(); got != 0 {
		t.Errorf("RPS with no duration = %v", got)
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name    string
		line    string
		want    ProcStat
		wantErr bool
	}{
		{
			name: "plain",
			line: "1234 (picloud) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 50 7 3 20 0 12 0 100 0 0",
			want: ProcStat{PPID: 1, Ticks: 150 + 50 + 7 + 3},
		},
		{
			name: "command with spaces and parentheses",
			line: "77 (postgres: a (b) c) S 1234 77 77 0 -1 0 0 0 0 0 10 20 30 40 20 0 1 0 5 0 0",
			want: ProcStat{PPID: 1234, Ticks: 100},
		},
		{name: "no command", line: "1 S 0", wantErr: true},
		{name: "too short", line: "1 (x) S 0 1 1", wantErr: true},
		{name: "bad number", line: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 ten 0 0 0 20 0", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStat(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseStatOfThisProcess(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc")
	}
	st, err := ParseStat(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != os.Getppid() {
		t.Errorf("ppid = %d, want %d", st.PPID, os.Getppid())
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add("1234 (picloud) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 50 7 3 20 0 12 0 100 0 0")
	f.Add("7 ()) S")
	f.Fuzz(func(t *testing.T, line string) {
		if _, err := ParseStat(line); err == nil && !strings.Contains(line, ")") {
			t.Errorf("accepted a line without a command name: %q", line)
		}
	})
}

func TestDescendants(t *testing.T) {
	parent := map[int]int{1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
	got := Descendants(10, parent)
	sort.Ints(got)
	if want := []int{10, 11, 12, 13}; !reflect.DeepEqual(got, want) {
		t.Errorf("Descendants(10) = %v, want %v", got, want)
	}
	if got := Descendants(99, parent); !reflect.DeepEqual(got, []int{99}) {
		t.Errorf("a leaf = %v", got)
	}
}

func mkRun(c, w string, rep int, reqs int64, durUS int64, p99 int64, cpu time.Duration) Run {
	r := Run{Contestant: c, Workload: w, Rep: rep, CPU: cpu, CPUMain: cpu / 2, RSSLoad: int64(rep) << 20}
	r.Wrk.Requests, r.Wrk.DurationUS, r.Wrk.Latency.P99 = reqs, durUS, p99
	r.Wrk.Latency.P50 = p99 / 10
	r.Wrk.Errors.Status = int64(rep - 1)
	return r
}

func TestSummarize(t *testing.T) {
	runs := []Run{
		mkRun("a", "hello", 1, 1000, 1e6, 900, 100*time.Millisecond), // 100 µs/req
		mkRun("b", "hello", 1, 3000, 1e6, 300, 60*time.Millisecond),  // 20 µs/req
		mkRun("a", "hello", 2, 3000, 1e6, 700, 90*time.Millisecond),  // 30 µs/req
		mkRun("b", "hello", 2, 2000, 1e6, 500, 60*time.Millisecond),  // 30 µs/req
		mkRun("a", "hello", 3, 2000, 1e6, 800, 100*time.Millisecond), // 50 µs/req
	}
	sums := Summarize(runs)
	if len(sums) != 2 || sums[0].Contestant != "a" || sums[1].Contestant != "b" {
		t.Fatalf("groups = %+v", sums)
	}
	a, b := sums[0], sums[1]
	if a.Reps != 3 || a.RPS != 2000 || a.RPSMin != 1000 || a.RPSMax != 3000 {
		t.Errorf("a rps: %+v", a)
	}
	if a.CPUPerReq != 50*time.Microsecond || a.CPUMin != 30*time.Microsecond || a.CPUMax != 100*time.Microsecond {
		t.Errorf("a cpu/req = %v (%v–%v), want the median 50µs (30µs–100µs)", a.CPUPerReq, a.CPUMin, a.CPUMax)
	}
	if a.CPUMainReq != 25*time.Microsecond {
		t.Errorf("a main-process cpu/req = %v, want 25µs", a.CPUMainReq)
	}
	if a.P99 != 800*time.Microsecond || a.P50 != 80*time.Microsecond {
		t.Errorf("a p99 = %v p50 = %v", a.P99, a.P50)
	}
	if a.Errors != 0+1+2 || a.Requests != 6000 || a.RSSLoad != 3<<20 {
		t.Errorf("a errors %d requests %d rss %d", a.Errors, a.Requests, a.RSSLoad)
	}
	// Two repetitions: the median is the mean of both.
	if b.RPS != 2500 || b.CPUPerReq != 25*time.Microsecond || b.P99 != 400*time.Microsecond {
		t.Errorf("b = %+v", b)
	}
}

func TestRatio(t *testing.T) {
	if got := Ratio(35, 100); got != 0.35 {
		t.Errorf("Ratio = %v", got)
	}
	for _, tc := range [][2]float64{{0, 1}, {1, 0}} {
		if got := Ratio(tc[0], tc[1]); !math.IsNaN(got) {
			t.Errorf("Ratio(%v, %v) = %v, want NaN", tc[0], tc[1], got)
		}
	}
}

func testReport() Report {
	return Report{
		Title: "t", Base: "picloud", Started: time.Unix(0, 0), Finished: time.Unix(60, 0),
		Contestants: []string{"picloud", "workerd", "rawgo"},
		Workloads:   []string{"hello", "kv"},
		Skipped:     map[string]string{"workerd/kv": "no KV"},
		Idle:        map[string][2]int64{"picloud/hello": {100 << 20, 150 << 20}},
		Runs: []Run{
			mkRun("picloud", "hello", 1, 1000, 1e6, 1000, 100*time.Millisecond), // 100 µs/req
			mkRun("workerd", "hello", 1, 4000, 1e6, 500, 200*time.Millisecond),  // 50 µs/req
			mkRun("rawgo", "hello", 1, 8000, 1e6, 250, 160*time.Millisecond),    // 20 µs/req
			mkRun("picloud", "kv", 1, 500, 1e6, 2000, 100*time.Millisecond),
		},
	}
}

func TestMarkdown(t *testing.T) {
	md := testReport().Markdown()
	for _, want := range []string{
		"| picloud | 1000 (1000–1000) | 100 µs | 1.00 ms |",
		"| 100 µs (100 µs–100 µs) | 50 µs | 1.00x | 1.00x | 100.0 | 1.0 | 150.0 | 0 / 1000 |",
		"| workerd | 4000 (4000–4000) |",
		"| 50 µs (50 µs–50 µs) | 25 µs | 0.50x | 4.00x |",
		"| rawgo | 8000 (8000–8000) |",
		"| 20 µs (20 µs–20 µs) | 10 µs | 0.20x | 8.00x |",
		"- **workerd/kv**: no KV",
		"## kv",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestChartData(t *testing.T) {
	groups, series, ratios := ChartData(testReport())
	// kv has only the base: no group for it.
	if want := []string{"hello CPU/req", "hello req/s", "hello p99"}; !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	if want := []string{"workerd", "rawgo"}; !reflect.DeepEqual(series, want) {
		t.Errorf("series = %v", series)
	}
	want := [][]float64{{0.5, 4, 0.5}, {0.2, 8, 0.25}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(ratios[i][j]-want[i][j]) > 1e-9 {
				t.Errorf("ratio[%s][%s] = %v, want %v", series[i], groups[j], ratios[i][j], want[i][j])
			}
		}
	}
}

func TestChartWritesPNG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.png")
	if err := Chart(testReport(), file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %d bytes, %v", len(b), err)
	}
}

func TestDensityCounts(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"", nil, false},
		{"10000,1000", []int{1000, 10000}, false},
		{"1000, x", nil, true},
		{"0", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := densityCounts(tc.in)
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("densityCounts(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func TestQuickDefaultsKeepExplicitFlags(t *testing.T) {
	o, err := parseFlags([]string{"-quick", "-reps", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if o.reps != 3 || o.duration != 2*time.Second || o.density != "" {
		t.Errorf("quick = %+v", o)
	}
	if _, err := parseFlags([]string{"-reps", "0"}); err == nil {
		t.Error("-reps 0 accepted")
	}
}

func TestParallelStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var ran [100]bool
	err := parallel(100, 4, func(i int) error {
		ran[i] = true
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if ran[99] {
		t.Error("kept going after the error")
	}
}

func TestTargets(t *testing.T) {
	sums := Summarize(testReport().Runs) // picloud 100 µs, workerd 50 µs, rawgo 20 µs per hello request
	lines := strings.Join(Targets(sums, Measured{DeployToFirst: 40 * time.Millisecond, DensityN: 1000, DensityKB: 1200}), "\n")
	for _, want := range []string{
		"| hello server CPU/req ≤ 0.35x workerd's | 2.00x (100 µs vs 50 µs) | **no** |",
		"| json server CPU/req ≤ 1.0x workerd's | – | not measured |",
		"| hello server CPU/req ≤ 1.4x raw Go net/http's | 5.00x (100 µs vs 20 µs) | **no** |",
		"| hello p99 under load ≤ workerd's | 1.00 ms vs 500 µs | **no** |",
		"| deploy to first response ≤ 50 ms | 40.00 ms (median, deploy + route + first 200) | yes |",
		"| ≤ 25 KB RSS per idle deployed script | 1200 KB per script at 1000 scripts | **no** |",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("targets lack %q:\n%s", want, lines)
		}
	}
	// PiCloud faster than the others: met.
	fast := Summarize([]Run{
		mkRun("picloud", "hello", 1, 1000, 1e6, 100, 10*time.Millisecond),
		mkRun("workerd", "hello", 1, 1000, 1e6, 200, 50*time.Millisecond),
	})
	lines = strings.Join(Targets(fast, Measured{}), "\n")
	for _, want := range []string{
		"| hello server CPU/req ≤ 0.35x workerd's | 0.20x (10 µs vs 50 µs) | yes |",
		"| hello p99 under load ≤ workerd's | 100 µs vs 200 µs | yes |",
		"| deploy to first response ≤ 50 ms | – | not measured |",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("targets lack %q:\n%s", want, lines)
		}
	}
}
