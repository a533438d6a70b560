package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// KV and secret shapes of the admin API.
type (
	kvNamespace struct {
		Namespace string `json:"namespace"`
		Keys      int64  `json:"keys"`
	}
	kvKey struct {
		Name       string          `json:"name"`
		Expiration int64           `json:"expiration,omitempty"`
		Metadata   json.RawMessage `json:"metadata,omitempty"`
	}
	secretInfo struct {
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
)

const (
	kvMetadataHeader   = "X-PiCloud-KV-Metadata"
	kvExpirationHeader = "X-PiCloud-KV-Expiration"
)

// kvValuePath is the admin path of one key; each slash-separated part is
// escaped on its own so keys keep their slashes.
func kvValuePath(app, ns, key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/apps/" + url.PathEscape(app) + "/kv/" + url.PathEscape(ns) + "/values/" + strings.Join(parts, "/")
}

func cmdKV(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls, get, put, rm or bulk")
	}
	sub, args := args[0], args[1:]
	f := newFlags("kv " + sub)
	appRef := r.appFlag(f)
	switch sub {
	case "ls", "list":
		prefix := f.String("prefix", "", "only keys starting with this")
		if err := f.parse(args, 0, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if f.arg(0) == "" {
			return kvNamespaces(ctx, r, c, *appRef)
		}
		return kvKeys(ctx, r, c, *appRef, f.arg(0), *prefix)
	case "get":
		if err := f.parse(args, 2, 2); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		resp, err := c.send(ctx, http.MethodGet, adminPrefix+kvValuePath(*appRef, f.arg(0), f.arg(1)), nil, nil, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return c.unreachable(err)
		}
		if resp.StatusCode >= 400 {
			return decodeError(resp.StatusCode, body)
		}
		if r.json {
			out := map[string]any{"key": f.arg(1), "value": string(body)}
			if md := resp.Header.Get(kvMetadataHeader); md != "" {
				out["metadata"] = json.RawMessage(md)
			}
			if exp, err := strconv.ParseInt(resp.Header.Get(kvExpirationHeader), 10, 64); err == nil {
				out["expiration"] = exp
			}
			return r.out.emit(out)
		}
		_, err = r.env.Stdout.Write(body)
		return err
	case "put":
		file := f.String("file", "", "read the value from this file (- for stdin)")
		ttl := f.Int64("ttl", 0, "expire the key after this many seconds (at least 60)")
		expiration := f.Int64("expiration", 0, "expire the key at this time, in seconds since the epoch")
		metadata := f.String("metadata", "", "metadata as JSON")
		if err := f.parse(args, 2, 3); err != nil {
			return err
		}
		var value []byte
		switch {
		case len(f.pos) == 3 && *file != "":
			return usagef("give the value as an argument or with --file, not both")
		case len(f.pos) == 3:
			value = []byte(f.arg(2))
		case *file != "":
			b, err := r.readAllFile(*file)
			if err != nil {
				return err
			}
			value = b
		default:
			return usagef("missing value: give it as an argument or with --file F")
		}
		if *metadata != "" && !json.Valid([]byte(*metadata)) {
			return usagef("--metadata must be JSON")
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if *ttl != 0 && *expiration != 0 {
			return usagef("give --ttl or --expiration, not both")
		}
		q := url.Values{}
		if *ttl != 0 {
			q.Set("expiration_ttl", strconv.FormatInt(*ttl, 10))
		}
		if *expiration != 0 {
			q.Set("expiration", strconv.FormatInt(*expiration, 10))
		}
		hdr := http.Header{}
		if *metadata != "" {
			hdr.Set(kvMetadataHeader, *metadata)
		}
		if err := kvRaw(ctx, c, http.MethodPut, kvValuePath(*appRef, f.arg(0), f.arg(1)), q, value, hdr); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"namespace": f.arg(0), "key": f.arg(1), "bytes": len(value)})
		}
		r.out.printf("Wrote %s/%s (%d bytes).\n", f.arg(0), f.arg(1), len(value))
		return nil
	case "rm", "delete":
		if err := f.parse(args, 2, 2); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if err := kvRaw(ctx, c, http.MethodDelete, kvValuePath(*appRef, f.arg(0), f.arg(1)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": f.arg(1), "namespace": f.arg(0)})
		}
		r.out.printf("Deleted %s/%s.\n", f.arg(0), f.arg(1))
		return nil
	case "bulk":
		if err := f.parse(args, 3, 3); err != nil {
			return err
		}
		return kvBulk(ctx, r, *appRef, f.arg(0), f.arg(1), f.arg(2))
	}
	return usagef("unknown subcommand %q: ls, get, put, rm or bulk", sub)
}

// kvBulk runs `kv bulk put|rm NAMESPACE FILE` with the JSON files of
// `wrangler kv bulk`: for put an array of {key, value, base64, expiration,
// expiration_ttl, metadata}; for rm an array of keys, as strings or as
// objects with a key.
func kvBulk(ctx context.Context, r *runner, app, op, ns, file string) error {
	if op != "put" && op != "rm" && op != "delete" {
		return usagef("unknown bulk operation %q: put or rm", op)
	}
	data, err := r.readAllFile(file)
	if err != nil {
		return err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return usagef("%s must hold a JSON array: %v", file, err)
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	base := "/apps/" + url.PathEscape(app) + "/kv/" + url.PathEscape(ns) + "/bulk"
	if op == "put" {
		var out struct{ Written int }
		if err := c.do(ctx, http.MethodPut, base, nil, json.RawMessage(data), &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"namespace": ns, "written": out.Written})
		}
		r.out.printf("Wrote %s to %s.\n", keysCount(out.Written), ns)
		return nil
	}
	keys := make([]string, len(items))
	for i, it := range items {
		var obj struct{ Key *string }
		switch {
		case json.Unmarshal(it, &keys[i]) == nil:
		case json.Unmarshal(it, &obj) == nil && obj.Key != nil:
			keys[i] = *obj.Key
		default:
			return usagef("%s: item %d is neither a key nor an object with a key", file, i)
		}
	}
	var out struct{ Deleted int }
	if err := c.do(ctx, http.MethodPost, base+"/delete", nil, keys, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(map[string]any{"namespace": ns, "deleted": out.Deleted})
	}
	r.out.printf("Deleted %s from %s.\n", keysCount(out.Deleted), ns)
	return nil
}

// kvRaw sends a request whose body is raw bytes, expecting no answer body.
func kvRaw(ctx context.Context, c *client, method, path string, q url.Values, body []byte, hdr http.Header) error {
	var in any
	if body != nil {
		in = body
	}
	resp, err := c.send(ctx, method, adminPrefix+path, q, in, hdr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return c.unreachable(err)
	}
	if resp.StatusCode >= 400 {
		return decodeError(resp.StatusCode, b)
	}
	return nil
}

func kvNamespaces(ctx context.Context, r *runner, c *client, appRef string) error {
	var out struct {
		Namespaces []kvNamespace `json:"namespaces"`
	}
	if err := c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(appRef)+"/kv", nil, nil, &out); err != nil {
		return err
	}
	if r.json {
		return r.out.emit(out.Namespaces)
	}
	var rows [][]string
	for _, n := range out.Namespaces {
		rows = append(rows, []string{n.Namespace, strconv.FormatInt(n.Keys, 10)})
	}
	r.out.table(fmt.Sprintf("No KV keys in app %s. Write one with `picloud kv put NAMESPACE KEY VALUE --app %s`.", appRef, appRef),
		[]string{"NAMESPACE", "KEYS"}, rows)
	return nil
}

// kvKeys lists every key of a namespace, following the cursor.
func kvKeys(ctx context.Context, r *runner, c *client, appRef, ns, prefix string) error {
	var keys []kvKey
	cursor := ""
	for {
		q := url.Values{}
		if prefix != "" {
			q.Set("prefix", prefix)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Keys         []kvKey `json:"keys"`
			ListComplete bool    `json:"list_complete"`
			Cursor       string  `json:"cursor"`
		}
		if err := c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(appRef)+"/kv/"+url.PathEscape(ns)+"/keys", q, nil, &page); err != nil {
			return err
		}
		keys = append(keys, page.Keys...)
		if page.ListComplete || page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	if keys == nil {
		keys = []kvKey{}
	}
	if r.json {
		return r.out.emit(keys)
	}
	var rows [][]string
	for _, k := range keys {
		exp := "-"
		if k.Expiration != 0 {
			exp = time.Unix(k.Expiration, 0).Local().Format("2006-01-02 15:04:05")
		}
		md := "-"
		if len(k.Metadata) > 0 {
			md = string(k.Metadata)
		}
		rows = append(rows, []string{k.Name, exp, md})
	}
	r.out.table(fmt.Sprintf("No keys in namespace %s of app %s.", ns, appRef), []string{"KEY", "EXPIRES", "METADATA"}, rows)
	return nil
}

func cmdSecret(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: ls, put or rm")
	}
	sub, args := args[0], args[1:]
	f := newFlags("secret " + sub)
	appRef := r.appFlag(f)
	base := func() string { return "/apps/" + url.PathEscape(*appRef) + "/secrets" }
	switch sub {
	case "ls", "list":
		if err := f.parse(args, 0, 0); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		var out struct {
			Secrets []secretInfo `json:"secrets"`
		}
		if err := c.do(ctx, http.MethodGet, base(), nil, nil, &out); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(out.Secrets)
		}
		var rows [][]string
		now := time.Now()
		for _, s := range out.Secrets {
			rows = append(rows, []string{s.Name, ago(s.UpdatedAt, now)})
		}
		r.out.table(fmt.Sprintf("No secrets in app %s. Set one with `picloud secret put NAME --app %s` (value on stdin).", *appRef, *appRef),
			[]string{"NAME", "UPDATED"}, rows)
		return nil
	case "put", "set":
		// The value comes from stdin only, never argv, where other users
		// of the machine and shell history would see it.
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		value, err := r.readSecret(f.arg(0))
		if err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		var info secretInfo
		if err := c.do(ctx, http.MethodPut, base()+"/"+url.PathEscape(f.arg(0)), nil, map[string]string{"value": value}, &info); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(info)
		}
		r.out.printf("Set secret %s in app %s.\n", info.Name, *appRef)
		return nil
	case "rm", "delete":
		if err := f.parse(args, 1, 1); err != nil {
			return err
		}
		c, err := r.client()
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodDelete, base()+"/"+url.PathEscape(f.arg(0)), nil, nil, nil); err != nil {
			return err
		}
		if r.json {
			return r.out.emit(map[string]any{"deleted": f.arg(0)})
		}
		r.out.printf("Deleted secret %s.\n", f.arg(0))
		return nil
	}
	return usagef("unknown subcommand %q: ls, put or rm", sub)
}

// readSecret reads a secret's value: without echo from a terminal, else
// all of stdin less one trailing newline (as `echo` or a file adds).
func (r *runner) readSecret(name string) (string, error) {
	if r.env.IsTerminal != nil && r.env.IsTerminal() {
		fmt.Fprintf(r.env.Stderr, "Value for %s: ", name)
		v, err := r.env.ReadPassword()
		fmt.Fprintln(r.env.Stderr)
		return v, err
	}
	b, err := io.ReadAll(r.env.Stdin)
	if err != nil {
		return "", fmt.Errorf("reading the value from stdin: %w", err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", usagef("empty value: pipe it on stdin, e.g. `picloud secret put %s < file`", name)
	}
	return v, nil
}

func keysCount(n int) string {
	if n == 1 {
		return "1 key"
	}
	return fmt.Sprintf("%d keys", n)
}
