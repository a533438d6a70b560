// Command bench is PiCloud's side-by-side benchmark (issue 9): it builds
// and starts `picloud dev`, deploys bench/scripts through the admin API,
// starts workerd, Node.js, Bun and a raw Go net/http server on loopback
// serving the same scripts, drives each with wrk (server and client pinned
// to different CPUs, contestants interleaved, warm-up, repetitions) and
// writes a markdown table and a PNG chart. Run it through bench/run.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are the command-line settings.
type options struct {
	quick         bool
	duration      time.Duration
	warmup        time.Duration
	reps          int
	conns         int
	contestants   string
	workloads     string
	fanoutScripts int
	fanoutRoutes  int
	density       string
	cold          int
	out           string
	serverCPU     string
	clientCPU     string
	keep          bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "smoke test: 2s runs, 1s warm-up, 1 repetition, small fanout, no density, results in a temporary directory")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of one measured run")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up per contestant and workload, not measured")
	fs.IntVar(&o.reps, "reps", 3, "measured repetitions per contestant and workload (interleaved)")
	fs.IntVar(&o.conns, "conns", 16, "wrk connections (PiCloud admits 32 executions at once by default)")
	fs.StringVar(&o.contestants, "contestants", "picloud,workerd,node,bun,rawgo", "contestants, comma-separated")
	fs.StringVar(&o.workloads, "workloads", "hello,json,kv,fanout,cold,density", "workloads, comma-separated")
	fs.IntVar(&o.fanoutScripts, "fanout-scripts", 1000, "scripts deployed for fanout")
	fs.IntVar(&o.fanoutRoutes, "fanout-routes", 10000, "routes spread over the fanout scripts")
	fs.StringVar(&o.density, "density", "1000", "deployed, warmed script counts at which to measure RSS (e.g. 1000,10000)")
	fs.IntVar(&o.cold, "cold", 5, "cold-start samples")
	fs.StringVar(&o.out, "out", "", "results directory (default bench/results, or a temporary one with -quick)")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list (taskset) for the servers")
	fs.StringVar(&o.clientCPU, "client-cpu", "1", "CPU list (taskset) for wrk")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, data)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("duration", func() { o.duration = 2 * time.Second })
		def("warmup", func() { o.warmup = time.Second })
		def("reps", func() { o.reps = 1 })
		def("fanout-scripts", func() { o.fanoutScripts = 50 })
		def("fanout-routes", func() { o.fanoutRoutes = 500 })
		def("density", func() { o.density = "" })
		def("cold", func() { o.cold = 2 })
	}
	if o.reps < 1 || o.conns < 1 || o.duration <= 0 {
		return o, errors.New("-reps, -conns and -duration must be positive")
	}
	return o, nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, o); err != nil {
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

// paths of the repository and of bench/.
type paths struct {
	repo, bench, tmp string
}

func locate() (paths, error) {
	wd, err := os.Getwd()
	if err != nil {
		return paths{}, err
	}
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "bench", "scripts", "hello.js")); err == nil {
			return paths{repo: d, bench: filepath.Join(d, "bench")}, nil
		}
	}
	return paths{}, errors.New("run from inside the PiCloud repository (bench/scripts not found)")
}

func run(ctx context.Context, log *slog.Logger, o options) error {
	p, err := locate()
	if err != nil {
		return err
	}
	// Traversable by the postgres user that runs PiCloud's managed database.
	p.tmp, err = os.MkdirTemp("", "picloud-bench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(p.tmp, 0o711); err != nil {
		return err
	}
	if o.keep {
		log.Info("keeping temporary directory", "dir", p.tmp)
	} else {
		defer os.RemoveAll(p.tmp)
	}
	if o.out == "" {
		o.out = filepath.Join(p.bench, "results")
		if o.quick {
			o.out = filepath.Join(p.tmp, "results")
			if !o.keep {
				o.out = filepath.Join(os.TempDir(), "picloud-bench-quick")
			}
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	logDir := filepath.Join(p.tmp, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	sv := &supervisor{cpu: o.serverCPU, logDir: logDir}
	defer sv.stopAll()

	b := &bench{log: log, o: o, p: p, sv: sv, pr: newProcReader(), startups: map[string][]time.Duration{}, rep: Report{
		Title: "PiCloud side by side", Started: time.Now(), Base: "picloud",
		Skipped: map[string]string{}, Idle: map[string][2]int64{},
	}}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	if err := b.measureAll(ctx); err != nil {
		// Keep what was measured, marked as cut short.
		b.rep.Skipped["run"] = "cut short: " + err.Error()
		if len(b.rep.Runs) > 0 {
			if werr := b.write(); werr != nil {
				b.log.Error("writing partial results", "err", werr)
			}
		}
		return err
	}
	return b.write()
}

// bench carries one harness run.
type bench struct {
	log *slog.Logger
	o   options
	p   paths
	sv  *supervisor
	pr  procReader
	rep Report

	picloudBin, rawgoBin string
	picloud, rawgo       *server // shared by every workload
	adm                  *admin
	contestants          []string
	workloads            []string
	startups             map[string][]time.Duration // process start to first 200, per contestant
}

func (b *bench) has(list []string, x string) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func output(dir string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// prepare builds the binaries, installs the npm contestants and records
// the machine and versions.
func (b *bench) prepare(ctx context.Context) error {
	b.contestants = split(b.o.contestants)
	b.workloads = split(b.o.workloads)
	b.rep.Contestants = b.contestants
	for _, w := range b.workloads {
		if _, ok := loadWorkloads[w]; ok {
			b.rep.Workloads = append(b.rep.Workloads, w)
		}
	}

	b.log.Info("building picloud and rawgo")
	b.picloudBin = filepath.Join(b.p.tmp, "picloud")
	b.rawgoBin = filepath.Join(b.p.tmp, "rawgo")
	if out, err := output(b.p.repo, "go", "build", "-o", b.picloudBin, "./cmd/picloud"); err != nil {
		return fmt.Errorf("building picloud: %v: %s", err, out)
	}
	if out, err := output(b.p.bench, "go", "build", "-o", b.rawgoBin, "./rawgo"); err != nil {
		return fmt.Errorf("building rawgo: %v: %s", err, out)
	}

	if b.has(b.contestants, "workerd") || b.has(b.contestants, "bun") {
		if _, err := os.Stat(filepath.Join(b.p.bench, "node_modules", ".bin", "workerd")); err != nil {
			b.log.Info("installing npm contestants (npm ci)")
			if out, err := output(b.p.bench, "npm", "ci", "--no-audit", "--no-fund"); err != nil {
				b.log.Warn("npm ci failed", "err", err, "out", out)
			}
		}
	}

	m := &b.rep.Machine
	cpu, cores := "unknown", 0
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(info), "\n") {
			k, v, ok := strings.Cut(l, ":")
			switch {
			case !ok:
			case strings.TrimSpace(k) == "processor":
				cores++
			case strings.TrimSpace(k) == "model name":
				cpu = strings.TrimSpace(v)
			}
		}
	}
	kernel, _ := output("", "uname", "-r")
	*m = append(*m,
		fmt.Sprintf("CPU: %s, %d cores; memory %s", cpu, cores, fmtMB(statusField("/proc/meminfo", "MemTotal"))+" MB"),
		"kernel: "+kernel,
		"load average at start: "+loadavg(),
	)
	rev, _ := output(b.p.repo, "git", "rev-parse", "--short", "HEAD")
	if st, _ := output(b.p.repo, "git", "status", "--porcelain", "--untracked-files=no"); st != "" {
		rev += " (with uncommitted changes)"
	}
	gover, _ := output("", "go", "version")
	*m = append(*m, "PiCloud: commit "+rev+", "+gover)
	b.versions()
	b.rep.Settings = []string{
		fmt.Sprintf("wrk: 1 thread, %d connections, %s per run, %s warm-up per contestant and workload, %d repetitions interleaved (A B C … A B C …)", b.o.conns, b.o.duration, b.o.warmup, b.o.reps),
		fmt.Sprintf("servers pinned to CPU %s, wrk and the harness to CPU %s (taskset)", b.o.serverCPU, b.o.clientCPU),
		"server CPU/req: user+sys of the server's whole process tree (/proc/<pid>/stat, children included: PiCloud's PostgreSQL) over the run, divided by the requests wrk completed; medians over the repetitions",
		"RSS: the server's main process (VmRSS); tree PSS adds its children with shared pages counted once",
		"PiCloud runs with its defaults: execution logs written to PostgreSQL, access log at info level",
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ") + " (1, 5, 15 min)"
}

func (b *bench) bin(name string) string {
	return filepath.Join(b.p.bench, "node_modules", ".bin", name)
}

// versions records each contestant's version and marks missing ones.
func (b *bench) versions() {
	m := &b.rep.Machine
	check := func(c, label string, name string, args ...string) {
		if !b.has(b.contestants, c) {
			return
		}
		out, err := output(b.p.bench, name, args...)
		if err != nil {
			b.rep.Skipped[c] = fmt.Sprintf("`%s %s` failed: %v %s", name, strings.Join(args, " "), err, firstLine(out))
			return
		}
		*m = append(*m, label+": "+firstLine(out))
	}
	check("node", "Node.js", "node", "--version")
	check("bun", "Bun (npm package bun)", b.bin("bun"), "--version")
	check("workerd", "workerd (npm package workerd)", b.bin("workerd"), "--version")
	if out, _ := output("", "wrk", "-v"); out != "" {
		*m = append(*m, "load generator: "+firstLine(out))
	}
	if out, err := output("", "sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"); err == nil && out != "" {
		if v, err := output("", filepath.Join(out, "postgres"), "--version"); err == nil {
			*m = append(*m, "PostgreSQL (PiCloud's managed instance): "+v)
		}
	}
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}
