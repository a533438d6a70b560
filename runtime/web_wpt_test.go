package runtime

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The WPT URL data run through the JS URL class, in a real goja runtime
// through Execute, as scripts see it. runtime/weburl runs the same files
// against the Go API; this checks the binding (conversions, TypeErrors,
// [SameObject] searchParams, setters).

const wptHarness = `export default { async fetch(request) {
  const { file, data } = JSON.parse(await request.text());
  const failures = [];
  let total = 0;
  const q = (s) => JSON.stringify(s);
  const props = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];
  if (file === "urltestdata.json") {
    for (const c of data) {
      if (typeof c === "string") continue;
      total++;
      const key = "input=" + q(c.input) + (c.base == null ? "" : " base=" + q(c.base));
      const make = () => (c.base == null ? new URL(c.input) : new URL(c.input, c.base));
      const can = c.base == null ? URL.canParse(c.input) : URL.canParse(c.input, c.base);
      if (c.failure) {
        let err = null;
        try { make(); } catch (e) { err = e; }
        if (!(err instanceof TypeError)) failures.push([key, "want a TypeError, got " + (err === null ? "a URL" : String(err))]);
        else if (can) failures.push([key, "URL.canParse is true for a failure"]);
        continue;
      }
      let u;
      try { u = make(); } catch (e) { failures.push([key, "threw " + e]); continue; }
      const bad = [];
      for (const p of props) if (u[p] !== c[p]) bad.push(p + "=" + q(u[p]) + " want " + q(c[p]));
      if ("origin" in c && u.origin !== c.origin) bad.push("origin=" + q(u.origin) + " want " + q(c.origin));
      if (u.searchParams.toString() !== new URLSearchParams(c.search).toString()) bad.push("searchParams out of sync");
      if (!can) bad.push("URL.canParse is false");
      if (String(u) !== u.href || u.toJSON() !== u.href) bad.push("toString/toJSON differ from href");
      if (bad.length) failures.push([key, bad.join("; ")]);
    }
  } else {
    for (const attr of Object.keys(data)) {
      if (attr === "comment") continue;
      for (const c of data[attr]) {
        total++;
        const key = attr + " href=" + q(c.href) + " new_value=" + q(c.new_value);
        try {
          const u = new URL(c.href);
          const sp = u.searchParams;
          u[attr] = c.new_value;
          const bad = [];
          for (const [p, want] of Object.entries(c.expected)) if (u[p] !== want) bad.push(p + "=" + q(u[p]) + " want " + q(want));
          if (u.searchParams !== sp) bad.push("searchParams is not the same object");
          if (sp.toString() !== new URLSearchParams(u.search).toString()) bad.push("searchParams out of sync");
          if (bad.length) failures.push([key, bad.join("; ")]);
        } catch (e) { failures.push([key, "threw " + e]); }
      }
    }
  }
  return Response.json({ total, failures });
} }`

func TestWebURLWPT(t *testing.T) {
	e := newTestEngine(t, Config{})
	s := deployed(t, "wpt", wptHarness, "")
	for _, file := range []string{"urltestdata.json", "setters_tests.json"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("weburl", "testdata", "wpt", file))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(map[string]json.RawMessage{"file": json.RawMessage(`"` + file + `"`), "data": data})
			w := httptest.NewRecorder()
			res, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "POST", URL: "https://x/", Body: body}, w)
			if err != nil {
				t.Fatalf("execute: %v %+v", err, res.Logs)
			}
			var out struct {
				Total    int         `json:"total"`
				Failures [][2]string `json:"failures"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%v: %s", err, w.Body.String())
			}
			pass := out.Total - len(out.Failures)
			rate := float64(pass) / float64(out.Total)
			t.Logf("JS URL, %s: %d/%d passed (%.2f%%)", file, pass, out.Total, 100*rate)
			for _, f := range out.Failures {
				t.Errorf("FAIL %s: %s", f[0], f[1])
			}
			if out.Total < 200 || rate < 0.99 {
				t.Errorf("pass rate %.2f%% over %d cases, want at least 99%%", 100*rate, out.Total)
			}
		})
	}
}
