package runtime

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// publicTestAddr is a public address put on the loopback interface of a
// private network namespace, so a first hop passes the SSRF guard.
const publicTestAddr = "93.184.216.34"

// TestWebFetchRefusesPrivateRedirect: the address check runs on every
// redirect hop, not only on the URL the script passed. A first hop must
// be public to be reached at all, so the test re-runs itself in a new
// network namespace where publicTestAddr is local (root and unshare
// needed, as in CI; skipped otherwise).
func TestWebFetchRefusesPrivateRedirect(t *testing.T) {
	if os.Getenv("PICLOUD_TEST_NETNS_CHILD") == "" {
		unshare, err1 := exec.LookPath("unshare")
		ip, err2 := exec.LookPath("ip")
		if os.Geteuid() != 0 || err1 != nil || err2 != nil {
			t.Skip("needs root, unshare and ip for a private network namespace")
		}
		cmd := exec.Command(unshare, "--net", "sh", "-c",
			`"$1" link set lo up && "$1" addr add `+publicTestAddr+`/32 dev lo && exec "$0" -test.run='^TestWebFetchRefusesPrivateRedirect$' -test.v`,
			os.Args[0], ip)
		cmd.Env = append(os.Environ(), "PICLOUD_TEST_NETNS_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWebFetchRefusesPrivateRedirect/hops") {
			t.Fatalf("child in a network namespace: %v\n%s", err, out)
		}
		return
	}

	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("private data"))
	}))
	defer private.Close()
	l, err := net.Listen("tcp", publicTestAddr+":0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("public")) })
	mux.HandleFunc("/to-public", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/to-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/", http.StatusFound)
	})
	mux.HandleFunc("/to-localhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+private.URL[strings.LastIndex(private.URL, ":")+1:]+"/", http.StatusFound)
	})
	public := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	public.Start()
	defer public.Close()

	e := newTestEngine(t, Config{}) // AllowPrivate off
	code := `const out = [];
for (const p of ["/ok", "/to-public", "/to-private", "/to-localhost"]) {
  try { const r = await fetch("UP" + p); out.push([r.status, await r.text(), r.redirected]) }
  catch (e) { out.push(e.message.includes("destination address is not allowed")) }
}
const m = await fetch("UP/to-private", {redirect: "manual"}); out.push(m.status);
return out`
	runJSCases(t, e, []jsCase{{name: "hops", code: strings.ReplaceAll(code, "UP", public.URL),
		want: `[[200,"public",false],[200,"public",true],true,true,302]`}})
}
