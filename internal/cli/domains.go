package cli

import (
	"context"
	"net/http"
	"net/url"
)

// cmdDomains lists, claims and releases an app's domains: an app's routes
// answer only on hosts it claims.
func cmdDomains(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls, add or rm")
	}
	sub, args := args[0], args[1:]
	f := newFlags("domains " + sub)
	appRef := r.appFlag(f)
	want := map[string]int{"ls": 0, "list": 0, "add": 1, "claim": 1, "rm": 1, "release": 1}
	n, ok := want[sub]
	if !ok {
		return usagef("unknown subcommand %q: ls, add or rm", sub)
	}
	if err := f.parse(args, n, n); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	base := "/apps/" + url.PathEscape(*appRef) + "/domains"
	switch sub {
	case "ls", "list":
		var out struct {
			Domains []domain `json:"domains"`
		}
		if err := c.do(ctx, http.MethodGet, base, nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Domains)
		}
		var rows [][]string
		for _, d := range out.Domains {
			rows = append(rows, []string{d.Pattern, d.ID})
		}
		r.out.table("App "+*appRef+" claims no domain. Claim one with `picloud domains add HOST --app "+*appRef+"`.",
			[]string{"PATTERN", "ID"}, rows)
		return nil
	case "add", "claim":
		var d domain
		if err := c.do(ctx, http.MethodPost, base, nil, map[string]string{"pattern": f.arg(0)}, &d); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(d)
		}
		r.out.printf("App %s now claims %s (%s).\n", *appRef, d.Pattern, d.ID)
		return nil
	default:
		if err := c.do(ctx, http.MethodDelete, base+"/"+url.PathEscape(f.arg(0)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"released": f.arg(0)})
		}
		r.out.printf("App %s released %s.\n", *appRef, f.arg(0))
		return nil
	}
}
