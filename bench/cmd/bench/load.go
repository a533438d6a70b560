package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// workload is one load test driven by wrk.
type workload struct {
	name   string
	script string // file under bench/scripts
	method string
	path   string
	body   string   // file under bench/scripts sent as the body, or ""
	only   []string // contestants that can run it; nil means all
	why    string   // why the others cannot
}

var loadWorkloads = map[string]workload{
	"hello": {name: "hello", script: "hello.js", method: "GET", path: "/hello"},
	"json":  {name: "json", script: "json.js", method: "POST", path: "/json", body: "json-body.json"},
	"kv": {name: "kv", script: "kv.js", method: "GET", path: "/kv", only: []string{"picloud"},
		why: "no KV store to bind on this machine (workerd's KV binding needs a backing service, Node.js, Bun and Go have none)"},
}

// loadOrder is the order in which load workloads run and are reported.
var loadOrder = []string{"hello", "json", "kv"}

func (w workload) runs(c string) bool {
	if w.only == nil {
		return true
	}
	for _, o := range w.only {
		if o == c {
			return true
		}
	}
	return false
}

// deployPiCloud starts `picloud dev` and deploys the load workloads'
// scripts with their routes through the admin API.
func (b *bench) startPiCloud(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	password := randomHex(12)
	env := append(os.Environ(),
		fmt.Sprintf("PICLOUD_BIND=127.0.0.1:%d", port),
		"PICLOUD_HTTPS_BIND=off",
		"PICLOUD_DATA_DIR="+filepath.Join(b.p.tmp, "picloud-data"),
		"PICLOUD_ADMIN_USER=bench",
		"PICLOUD_ADMIN_PASSWORD="+password,
		"DATABASE_URL=",
	)
	s, err := b.sv.start("picloud", b.p.repo, env, port, b.picloudBin, "dev")
	if err != nil {
		return err
	}
	if err := waitReady(ctx, s, "GET", "/healthz", nil, 120*time.Second); err != nil {
		return err
	}
	b.picloud = s
	b.adm = &admin{base: s.base}
	if err := b.adm.login(ctx, "bench", password); err != nil {
		return err
	}
	for _, name := range loadOrder {
		w := loadWorkloads[name]
		src, err := os.ReadFile(filepath.Join(b.p.bench, "scripts", w.script))
		if err != nil {
			return err
		}
		var bindings map[string]any
		if name == "kv" {
			bindings = map[string]any{"BENCH": map[string]any{"type": "kv", "namespace": "bench"}}
		}
		id, err := b.adm.deploy(ctx, "bench-"+name, string(src), bindings)
		if err != nil {
			return err
		}
		if err := b.adm.route(ctx, id, w.method, w.path); err != nil {
			return err
		}
	}
	return nil
}

// launch starts (or, for PiCloud and rawgo, reuses) the server of
// contestant c for workload w.
func (b *bench) launch(ctx context.Context, c string, w workload) (s *server, shared bool, err error) {
	script := filepath.Join(b.p.bench, "scripts", w.script)
	var body []byte
	if w.body != "" {
		if body, err = os.ReadFile(filepath.Join(b.p.bench, "scripts", w.body)); err != nil {
			return nil, false, err
		}
	}
	switch c {
	case "picloud":
		if b.picloud == nil {
			if err := b.startPiCloud(ctx); err != nil {
				return nil, false, err
			}
		}
		return b.picloud, true, waitReady(ctx, b.picloud, w.method, w.path, body, 30*time.Second)
	case "rawgo":
		if b.rawgo == nil {
			port, err := freePort()
			if err != nil {
				return nil, false, err
			}
			t0 := time.Now()
			if b.rawgo, err = b.sv.start("rawgo", b.p.bench, os.Environ(), port, b.rawgoBin, fmt.Sprint(port)); err != nil {
				return nil, false, err
			}
			if err := waitReady(ctx, b.rawgo, w.method, w.path, body, 30*time.Second); err != nil {
				return nil, false, err
			}
			b.startups[c] = append(b.startups[c], time.Since(t0))
		}
		return b.rawgo, true, waitReady(ctx, b.rawgo, w.method, w.path, body, 30*time.Second)
	}
	port, err := freePort()
	if err != nil {
		return nil, false, err
	}
	name := c + "-" + w.name
	t0 := time.Now()
	defer func() {
		if err == nil {
			b.startups[c] = append(b.startups[c], time.Since(t0))
		}
	}()
	switch c {
	case "node":
		s, err = b.sv.start(name, b.p.bench, os.Environ(), port, "node", "glue/node.mjs", script, fmt.Sprint(port))
	case "bun":
		s, err = b.sv.start(name, b.p.bench, os.Environ(), port, b.bin("bun"), "glue/bun.mjs", script, fmt.Sprint(port))
	case "workerd":
		var cfg string
		if cfg, err = b.workerdConfig(w, port); err == nil {
			s, err = b.sv.start(name, filepath.Dir(cfg), os.Environ(), port, b.bin("workerd"), "serve", cfg)
		}
	default:
		return nil, false, fmt.Errorf("unknown contestant %q", c)
	}
	if err != nil {
		return nil, false, err
	}
	return s, false, waitReady(ctx, s, w.method, w.path, body, 30*time.Second)
}

// workerdConfig writes a workerd config serving the workload's script.
// workerd embeds files relative to the config, so the script is linked
// beside it: the very same file every contestant serves.
func (b *bench) workerdConfig(w workload, port int) (string, error) {
	dir := filepath.Join(b.p.tmp, "workerd-"+w.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(dir, w.script)
	_ = os.Remove(link)
	if err := os.Symlink(filepath.Join(b.p.bench, "scripts", w.script), link); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .bench) ],
  sockets = [ (name = "http", address = "127.0.0.1:%d", http = (), service = "main") ],
);
const bench :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed %q) ],
  compatibilityDate = "2024-09-23",
);
`, port, w.script)
	path := filepath.Join(dir, "config.capnp")
	return path, os.WriteFile(path, []byte(cfg), 0o644)
}

// wrk runs the load generator pinned to the client CPU.
func (b *bench) wrk(ctx context.Context, url string, d time.Duration, luaArgs ...string) (WrkResult, error) {
	args := []string{"-c", b.o.clientCPU, "wrk", "-t1", fmt.Sprintf("-c%d", b.o.conns), fmt.Sprintf("-d%ds", int(d.Round(time.Second)/time.Second)),
		"--timeout", "5s", "-H", "Host: localhost", "-s", filepath.Join(b.p.bench, "wrk", "bench.lua"), url}
	if len(luaArgs) > 0 {
		args = append(append(args, "--"), luaArgs...)
	}
	out, err := exec.CommandContext(ctx, "taskset", args...).CombinedOutput()
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return ParseWrk(string(out))
}

// measure is one measured run: wrk plus the server's CPU and RSS.
func (b *bench) measure(ctx context.Context, s *server, c string, w workload, rep int, d time.Duration, luaArgs ...string) (Run, error) {
	pid := s.pid()
	var (
		mu     sync.Mutex
		maxRSS int64
		stop   = make(chan struct{})
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r := b.pr.RSS(pid)
				mu.Lock()
				maxRSS = max(maxRSS, r)
				mu.Unlock()
			}
		}
	}()
	cpu0, main0 := b.pr.TreeCPU(pid), b.pr.ProcCPU(pid)
	res, err := b.wrk(ctx, s.base+w.path, d, luaArgs...)
	cpu1, main1 := b.pr.TreeCPU(pid), b.pr.ProcCPU(pid)
	close(stop)
	<-done
	if err != nil {
		return Run{}, err
	}
	if s.exited() {
		return Run{}, fmt.Errorf("%s exited during the run (%v); see %s", s.name, s.err, s.log)
	}
	return Run{Contestant: c, Workload: w.name, Rep: rep, Wrk: res, CPU: cpu1 - cpu0, CPUMain: main1 - main0, RSSLoad: maxRSS}, nil
}

func (w workload) luaArgs(benchDir string) []string {
	if w.body == "" {
		return nil
	}
	return []string{"body=" + filepath.Join(benchDir, "scripts", w.body)}
}

// runLoad runs one load workload over every contestant that can run it.
func (b *bench) runLoad(ctx context.Context, w workload) error {
	type entry struct {
		c      string
		s      *server
		shared bool
	}
	var live []entry
	defer func() {
		for _, e := range live {
			if !e.shared {
				b.sv.stop(e.s, 10*time.Second)
			}
		}
	}()
	for _, c := range b.contestants {
		if _, skip := b.rep.Skipped[c]; skip {
			continue
		}
		if !w.runs(c) {
			b.rep.Skipped[c+"/"+w.name] = w.why
			continue
		}
		s, shared, err := b.launch(ctx, c, w)
		if err != nil {
			if c == "picloud" {
				return fmt.Errorf("starting picloud: %w", err)
			}
			b.log.Warn("contestant did not start", "contestant", c, "workload", w.name, "err", err)
			b.rep.Skipped[c+"/"+w.name] = "did not start: " + err.Error()
			if s != nil && !shared {
				b.sv.stop(s, 10*time.Second)
			}
			continue
		}
		live = append(live, entry{c, s, shared})
	}
	if err := b.checkSameBytes(ctx, w, func(yield func(string, *server) bool) {
		for _, e := range live {
			if !yield(e.c, e.s) {
				return
			}
		}
	}); err != nil {
		return err
	}
	// Idle memory, before this workload's load (PiCloud and rawgo serve
	// every workload, so theirs is taken once, before the first).
	for _, e := range live {
		if _, ok := b.rep.Idle[e.c]; !ok || !e.shared {
			b.rep.Idle[e.c+"/"+w.name] = [2]int64{b.pr.RSS(e.s.pid()), b.pr.TreePSS(e.s.pid())}
			if e.shared {
				b.rep.Idle[e.c] = b.rep.Idle[e.c+"/"+w.name]
			}
		} else {
			b.rep.Idle[e.c+"/"+w.name] = b.rep.Idle[e.c]
		}
	}
	args := w.luaArgs(b.p.bench)
	for _, e := range live {
		b.log.Info("warm-up", "workload", w.name, "contestant", e.c)
		if _, err := b.wrk(ctx, e.s.base+w.path, b.o.warmup, args...); err != nil {
			return fmt.Errorf("warm-up of %s: %w", e.c, err)
		}
	}
	for rep := 1; rep <= b.o.reps; rep++ {
		for _, e := range live {
			r, err := b.measure(ctx, e.s, e.c, w, rep, b.o.duration, args...)
			if err != nil {
				return fmt.Errorf("%s %s rep %d: %w", w.name, e.c, rep, err)
			}
			b.log.Info("run", "workload", w.name, "contestant", e.c, "rep", rep, "rps", int(r.Wrk.RPS()),
				"cpu_per_req", r.CPUPerRequest(), "p99", time.Duration(r.Wrk.Latency.P99)*time.Microsecond, "errors", r.Wrk.TotalErrors())
			b.rep.Runs = append(b.rep.Runs, r)
		}
	}
	return nil
}

// checkSameBytes asks every contestant once and refuses to measure one
// whose body differs from the others' (kv bodies are only checked for 200).
func (b *bench) checkSameBytes(ctx context.Context, w workload, each func(func(string, *server) bool)) error {
	var body []byte
	if w.body != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join(b.p.bench, "scripts", w.body)); err != nil {
			return err
		}
	}
	var ref []byte
	var refName string
	var err error
	each(func(c string, s *server) bool {
		st, got, e := call(ctx, w.method, s.base+w.path, body)
		if e != nil || st != 200 {
			err = fmt.Errorf("%s answered %s with %d %v: %s", c, w.path, st, e, got)
			return false
		}
		if ref == nil {
			ref, refName = got, c
			return true
		}
		if !bytes.Equal(got, ref) {
			err = fmt.Errorf("%s and %s answer different bytes for %s:\n%s\n%s", refName, c, w.name, ref, got)
			return false
		}
		return true
	})
	return err
}

// measureAll runs the load workloads, then PiCloud's own: cold, fanout,
// density.
func (b *bench) measureAll(ctx context.Context) error {
	for _, name := range loadOrder {
		if !b.has(b.workloads, name) {
			continue
		}
		if err := b.runLoad(ctx, loadWorkloads[name]); err != nil {
			return err
		}
	}
	if b.picloud == nil && (b.has(b.workloads, "cold") || b.has(b.workloads, "fanout") || b.has(b.workloads, "density")) {
		if err := b.startPiCloud(ctx); err != nil {
			return err
		}
	}
	// PiCloud's own workloads come last; one that fails is reported and
	// the results gathered so far are still written.
	if b.has(b.workloads, "cold") && b.o.cold > 0 {
		if err := b.runCold(ctx); err != nil {
			b.log.Error("cold failed", "err", err)
			b.rep.Skipped["picloud/cold"] = "failed: " + err.Error()
		}
	}
	if b.has(b.workloads, "fanout") || b.has(b.workloads, "density") {
		if err := b.runFanoutDensity(ctx); err != nil {
			b.log.Error("fanout/density failed", "err", err)
			b.rep.Skipped["picloud/fanout+density"] = "failed: " + err.Error()
		}
	}
	return ctx.Err()
}

// write saves the markdown table and the chart.
func (b *bench) write() error {
	b.rep.Finished = time.Now()
	b.rep.Machine = append(b.rep.Machine, "load average at end: "+loadavg())
	name := "bench"
	if b.o.quick {
		name = "quick"
	}
	png := name + ".png"
	if err := Chart(b.rep, filepath.Join(b.o.out, png)); err != nil {
		b.log.Warn("no chart", "err", err)
	} else {
		b.rep.Chart = png
	}
	md := filepath.Join(b.o.out, name+".md")
	if err := os.WriteFile(md, []byte(b.rep.Markdown()), 0o644); err != nil {
		return err
	}
	b.log.Info("results written", "markdown", md, "chart", filepath.Join(b.o.out, b.rep.Chart))
	fmt.Println(strings.TrimSpace(b.rep.Markdown()))
	return nil
}
