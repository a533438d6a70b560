package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func cmdLogs(ctx context.Context, r *runner, args []string) error {
	f := newFlags("logs")
	appRef := r.appFlag(f)
	level := f.String("level", "", "only lines at or above: debug, info, warn, error")
	outcome := f.String("outcome", "", "only executions that ended: success, error, timeout, limit")
	since := f.String("since", "", "only since a time (RFC 3339) or a duration back (15m, 2h)")
	until := f.String("until", "", "only until a time (RFC 3339) or a duration back (15m, 2h)")
	execID := f.String("execution", "", "only the execution with this id (as printed by --json)")
	limit := f.Int("limit", 0, "how many executions to show (max 200; default 20, 10 with -f)")
	follow := f.Bool("f", false, "keep printing new executions as they happen (Ctrl-C to stop)")
	f.BoolVar(follow, "follow", false, "same as -f")
	if err := f.parse(args, 0, 1); err != nil {
		return err
	}
	if *until != "" && *follow {
		return usagef("--until and -f exclude each other")
	}
	if *limit < 0 || *limit > 200 {
		return usagef("--limit must be from 1 to 200")
	}
	if *limit == 0 {
		*limit = 20
		if *follow {
			*limit = 10
		}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	q := url.Values{"app": {*appRef}}
	if s := f.arg(0); s != "" {
		q.Set("script", s)
		// A script id names its app; an --app left at its default must
		// not hide the script's logs.
		appSet := r.env.Getenv("PICLOUD_APP") != ""
		f.Visit(func(fl *flag.Flag) { appSet = appSet || fl.Name == "app" })
		if uuidRe.MatchString(s) && !appSet {
			q.Del("app")
		}
	}
	if *level != "" {
		q.Set("level", *level)
	}
	if *outcome != "" {
		q.Set("outcome", *outcome)
	}
	if *execID != "" {
		q.Set("execution", *execID)
	}
	list := url.Values{"lines": {"true"}, "limit": {strconv.Itoa(*limit)}}
	for k, v := range q {
		list[k] = v
	}
	if *since != "" {
		list.Set("since", *since)
	}
	if *until != "" {
		list.Set("until", *until)
	}
	var page struct {
		Executions []execution `json:"executions"`
	}
	if err := c.do(ctx, http.MethodGet, "/executions", list, nil, &page); err != nil {
		return err
	}
	// The API answers newest first; people read logs oldest first.
	var last int64
	for i := len(page.Executions) - 1; i >= 0; i-- {
		e := page.Executions[i]
		if err := r.printExecution(e); err != nil {
			return err
		}
		last = max(last, e.Seq)
	}
	if !*follow {
		if len(page.Executions) == 0 && !r.json {
			fmt.Fprintln(r.env.Stderr, "No executions yet. Call the script, or follow new ones with -f.")
		}
		return nil
	}
	if !r.json {
		fmt.Fprintln(r.env.Stderr, "Following new executions (Ctrl-C to stop)…")
	}
	return r.tail(ctx, c, q, last)
}

// tail follows the SSE stream, reconnecting with Last-Event-ID so nothing
// is missed or repeated, until ctx ends.
func (r *runner) tail(ctx context.Context, c *client, q url.Values, last int64) error {
	for attempt := 0; ; attempt++ {
		h := http.Header{"Accept": {"text/event-stream"}, "Last-Event-ID": {strconv.FormatInt(last, 10)}}
		resp, err := c.send(ctx, http.MethodGet, adminPrefix+"/logs/tail", q, nil, h)
		if err == nil && resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			ae := decodeError(resp.StatusCode, b)
			if resp.StatusCode < 500 {
				return ae // a refusal does not get better by retrying
			}
			err = ae
		}
		if err == nil {
			attempt = 0
			err = r.readStream(resp.Body, &last)
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := retryAfter(attempt)
		if !r.json {
			fmt.Fprintf(r.env.Stderr, "tail interrupted (%v); reconnecting in %s…\n", shortErr(err), wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func shortErr(err error) string {
	if err == nil {
		return "stream ended"
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// readStream prints every execution event of an SSE stream.
func (r *runner) readStream(body io.Reader, last *int64) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "execution" && data != "" {
				var e execution
				if err := json.Unmarshal([]byte(data), &e); err != nil {
					return fmt.Errorf("bad event from the server: %w", err)
				}
				if e.Seq > *last {
					if err := r.printExecution(e); err != nil {
						return err
					}
					*last = e.Seq
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	return sc.Err()
}

// printExecution writes one execution: a JSON line, or a header line and
// its console lines, indented.
func (r *runner) printExecution(e execution) error {
	if r.json {
		return r.out.line(e)
	}
	name := e.Script
	if name == "" {
		name = e.ScriptID
	}
	r.out.printf("%s  %s %s  %d  %s  %.1fms  %s/%s v%d\n",
		e.StartedAt.Local().Format("2006-01-02 15:04:05"), e.Method, e.Path, e.Status, e.Outcome, e.DurationMS, e.App, name, e.Version)
	if e.Error != "" && !slices.ContainsFunc(e.Logs, func(l logLine) bool { return l.Message == e.Error }) {
		r.out.printf("    error  %s\n", strings.ReplaceAll(e.Error, "\n", "\n           "))
	}
	for _, l := range e.Logs {
		r.out.printf("    %-5s  %s\n", l.Level, strings.ReplaceAll(l.Message, "\n", "\n           "))
	}
	return nil
}
