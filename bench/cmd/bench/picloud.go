package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// durStats renders the median and the maximum of samples.
func durStats(xs []time.Duration) string {
	if len(xs) == 0 {
		return "–"
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var med time.Duration
	if n := len(s); n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return fmt.Sprintf("%s | %s", fmtDur(med), fmtDur(s[len(s)-1]))
}

// coldSource is a hello script made unique, so no compile cache helps.
func coldSource(tag string) string {
	return fmt.Sprintf("// %s\nexport default {\n  async fetch(request) {\n    return Response.json({ tag: %q, path: new URL(request.url).pathname });\n  },\n};\n", tag, tag)
}

// pollOK asks url until it answers 200.
func pollOK(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		st, _, err := call(ctx, "GET", url, nil)
		if err == nil && st == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no 200 within %s (last %d %v)", url, limit, st, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
}

// runCold measures, on PiCloud, the time from the deploy API call to the
// first 200 through a new route, and the first request of a script that
// never ran (through /api/v1/execute, a while after its deploy).
func (b *bench) runCold(ctx context.Context) error {
	base := b.picloud.base
	var deploys, toFirst, first, second []time.Duration
	for i := 0; i < b.o.cold; i++ {
		tag := "cold-" + randomHex(6)
		t0 := time.Now()
		id, err := b.adm.deploy(ctx, tag, coldSource(tag), nil)
		if err != nil {
			return err
		}
		deploys = append(deploys, time.Since(t0))
		if err := b.adm.route(ctx, id, "GET", "/"+tag); err != nil {
			return err
		}
		if err := pollOK(ctx, base+"/"+tag, 30*time.Second); err != nil {
			return err
		}
		toFirst = append(toFirst, time.Since(t0))

		tag2 := tag + "-never-run"
		id2, err := b.adm.deploy(ctx, tag2, coldSource(tag2), nil)
		if err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		for _, into := range []*[]time.Duration{&first, &second} {
			t := time.Now()
			st, body, err := call(ctx, "GET", base+"/api/v1/execute/"+id2, nil)
			if err != nil || st != 200 {
				return fmt.Errorf("execute %s: %d %v %s", id2, st, err, body)
			}
			*into = append(*into, time.Since(t))
		}
	}
	sorted := append([]time.Duration(nil), toFirst...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	b.rep.Measured.DeployToFirst = sorted[len(sorted)/2]
	b.rep.Extra = append(b.rep.Extra, Section{Title: "cold (PiCloud)", Lines: []string{
		fmt.Sprintf("%d samples, each a new script with unique source (no compile cache hit).", b.o.cold),
		"",
		"| what | median | max |",
		"| --- | ---: | ---: |",
		"| deploy API call (POST /scripts) | " + durStats(deploys) + " |",
		"| deploy call → route created → first 200 through it | " + durStats(toFirst) + " |",
		"| first request of a never-run script (/api/v1/execute) | " + durStats(first) + " |",
		"| its second request | " + durStats(second) + " |",
	}})
	b.rep.Extra = append(b.rep.Extra, b.startupSection())
	return nil
}

// parallel runs f(0..n-1) on k workers and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if stop || i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// densityCounts parses the -density list.
func densityCounts(s string) ([]int, error) {
	var out []int
	for _, f := range split(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad -density count %q", f)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

// runFanoutDensity deploys many scripts and routes through the admin API,
// drives the dispatch path over all routes (fanout), and measures RSS per
// deployed, warmed script (density).
func (b *bench) runFanoutDensity(ctx context.Context) error {
	counts, err := densityCounts(b.o.density)
	if err != nil {
		return err
	}
	doFanout := b.has(b.workloads, "fanout")
	if !b.has(b.workloads, "density") {
		counts = nil
	}
	pid := b.picloud.pid()
	time.Sleep(2 * time.Second)
	rss0, pss0 := b.pr.RSS(pid), b.pr.TreePSS(pid)
	var ids []string
	var mu sync.Mutex
	deployUpTo := func(n int) (time.Duration, error) {
		start := len(ids)
		if n <= start {
			return 0, nil
		}
		ids = append(ids, make([]string, n-start)...)
		t0 := time.Now()
		err := parallel(n-start, 4, func(i int) error {
			i += start
			id, err := b.adm.deploy(ctx, fmt.Sprintf("fan-%05d", i), coldSource(fmt.Sprintf("fan-%05d", i)), nil)
			mu.Lock()
			ids[i] = id
			mu.Unlock()
			return err
		})
		return time.Since(t0), err
	}
	// warm executes each script once. On a loaded machine a first
	// execution may hit a script limit: it is retried, and scripts that
	// still fail are counted in the report rather than ending the run.
	var warmFailed atomic.Int64
	var warmErr atomic.Value
	warm := func(from int) error {
		return parallel(len(ids)-from, 4, func(i int) error {
			var last string
			for try := 0; try < 3; try++ {
				st, body, err := call(ctx, "GET", b.picloud.base+"/api/v1/execute/"+ids[from+i], nil)
				if err == nil && st == 200 {
					return nil
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				last = fmt.Sprintf("%d %v %s", st, err, strings.TrimSpace(string(body)))
			}
			warmFailed.Add(1)
			warmErr.CompareAndSwap(nil, last)
			return nil
		})
	}
	var density []string
	measured := 0
	densityAt := func(n int) {
		time.Sleep(2 * time.Second)
		rss, pss := b.pr.RSS(pid), b.pr.TreePSS(pid)
		per := func(after, before int64) string {
			return fmt.Sprintf("%.1f", float64(after-before)/float64(n)/1024)
		}
		if b.rep.Measured.DensityN == 0 {
			b.rep.Measured.DensityN, b.rep.Measured.DensityKB = n, float64(rss-rss0)/float64(n)/1024
		}
		density = append(density, fmt.Sprintf("| %d | %s | %s | %s | %s |", n, fmtMB(rss), per(rss, rss0), fmtMB(pss), per(pss, pss0)))
		measured = n
	}

	if doFanout {
		n, routes := b.o.fanoutScripts, b.o.fanoutRoutes
		b.log.Info("fanout: deploying", "scripts", n, "routes", routes)
		tDeploy, err := deployUpTo(n)
		if err != nil {
			return err
		}
		paths := make([]string, routes)
		t0 := time.Now()
		var made atomic.Int64
		if err := parallel(routes, 4, func(k int) error {
			paths[k] = fmt.Sprintf("/f/%d/%d", k%n, k/n)
			if err := b.adm.route(ctx, ids[k%n], "GET", paths[k]); err != nil {
				return err
			}
			if m := made.Add(1); m%1000 == 0 {
				b.log.Info("fanout: routes created", "routes", m, "elapsed", time.Since(t0).Round(time.Second))
			}
			return nil
		}); err != nil {
			return err
		}
		tRoutes := time.Since(t0)
		if err := pollOK(ctx, b.picloud.base+paths[len(paths)-1], 60*time.Second); err != nil {
			return err
		}
		if err := warm(0); err != nil {
			return err
		}
		for _, c := range counts {
			if c == n {
				densityAt(n)
			}
		}
		file := filepath.Join(b.p.tmp, "fanout-paths.txt")
		if err := os.WriteFile(file, []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		w := workload{name: "fanout", method: "GET", path: "/f/0/0"}
		args := []string{"paths=" + file}
		b.log.Info("fanout: load")
		if _, err := b.wrk(ctx, b.picloud.base+w.path, b.o.warmup, args...); err != nil {
			return err
		}
		for rep := 1; rep <= b.o.reps; rep++ {
			r, err := b.measure(ctx, b.picloud, "picloud", w, rep, b.o.duration, args...)
			if err != nil {
				return err
			}
			b.log.Info("run", "workload", "fanout", "rep", rep, "rps", int(r.Wrk.RPS()), "cpu_per_req", r.CPUPerRequest())
			b.rep.Runs = append(b.rep.Runs, r)
		}
		b.rep.Workloads = append(b.rep.Workloads, "fanout")
		lines := []string{
			fmt.Sprintf("%d scripts and %d routes (`GET /f/<script>/<k>`) deployed through the admin API with 4 concurrent clients: scripts in %s (%s each), routes in %s (%s each). wrk picks each request's route at random.",
				n, routes, tDeploy.Round(time.Millisecond), fmtDur(tDeploy/time.Duration(n)), tRoutes.Round(time.Millisecond), fmtDur(tRoutes/time.Duration(routes))),
		}
		sums := Summarize(b.rep.Runs)
		if f, ok := find(sums, "picloud", "fanout"); ok {
			if h, ok := find(sums, "picloud", "hello"); ok {
				lines = append(lines, "", fmt.Sprintf("Against PiCloud's hello (one route): CPU/req %s, req/s %s, p99 %s.",
					fmtRatio(Ratio(float64(f.CPUPerReq), float64(h.CPUPerReq))), fmtRatio(Ratio(f.RPS, h.RPS)), fmtRatio(Ratio(float64(f.P99), float64(h.P99)))))
			}
		}
		b.rep.Extra = append(b.rep.Extra, Section{Title: "fanout (PiCloud)", Lines: lines})
	}

	for _, c := range counts {
		if c <= measured {
			continue
		}
		b.log.Info("density: deploying", "scripts", c)
		from := len(ids)
		if _, err := deployUpTo(c); err != nil {
			return err
		}
		if err := warm(from); err != nil {
			return err
		}
		densityAt(c)
	}
	if n := warmFailed.Load(); n > 0 {
		b.rep.Skipped["picloud/fanout+density warm-up"] = fmt.Sprintf("%d scripts answered no 200 to their first execution after 3 tries (they stay deployed, maybe not warm); first answer: %v", n, warmErr.Load())
	}
	if len(density) > 0 {
		lines := []string{
			fmt.Sprintf("Scripts deployed and each executed once (warmed). Before deploying: main RSS %s MB, tree PSS %s MB. Per-script figures are the growth since then divided by the scripts added.", fmtMB(rss0), fmtMB(pss0)),
			"",
			"| deployed scripts | main RSS MB | KB per script | tree PSS MB | KB per script |",
			"| ---: | ---: | ---: | ---: | ---: |",
		}
		b.rep.Extra = append(b.rep.Extra, Section{Title: "density (PiCloud)", Lines: append(lines, density...)})
	}
	return nil
}

// startupSection reports, for the other contestants, the time from
// starting a process to its first 200 (polled every 5 ms): their
// equivalent of a deploy. PiCloud's process start includes starting
// PostgreSQL, so it is not comparable and left out.
func (b *bench) startupSection() Section {
	lines := []string{
		"For comparison, process start → first 200 of the other contestants (one sample per process the harness started; polled every 5 ms):",
		"",
		"| contestant | samples | median | max |",
		"| --- | ---: | ---: | ---: |",
	}
	for _, c := range b.contestants {
		if xs := b.startups[c]; len(xs) > 0 && c != "picloud" {
			lines = append(lines, fmt.Sprintf("| %s | %d | %s |", c, len(xs), durStats(xs)))
		}
	}
	return Section{Title: "process start (the others)", Lines: lines}
}
