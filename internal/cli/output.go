package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// output writes either aligned tables for people or JSON for programs.
type output struct {
	w    io.Writer
	json bool
}

// emit writes v as indented JSON.
func (o *output) emit(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// line writes v as one line of JSON (for streams).
func (o *output) line(v any) error { return json.NewEncoder(o.w).Encode(v) }

// table writes rows under a header, aligned; an empty table says so.
func (o *output) table(empty string, header []string, rows [][]string) {
	if len(rows) == 0 {
		fmt.Fprintln(o.w, empty)
		return
	}
	tw := tabwriter.NewWriter(o.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (o *output) printf(format string, args ...any) { fmt.Fprintf(o.w, format, args...) }

// ago renders a past time the way people read it in a table.
func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return t.Local().Format("2006-01-02 15:04")
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Local().Format("2006-01-02 15:04")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
