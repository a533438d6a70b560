package edge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/route"

	"github.com/picloud/picloud/internal/testnet"
)

// tlsClient trusts only roots and dials every host at addr, so that any
// SNI name can be tried on loopback.
func tlsClient(roots *x509.CertPool, addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestHTTPSWithPiCloudCA(t *testing.T) {
	httpsAddr := ""
	f := newFixture(t, func(c *Config) {
		httpsAddr = testnet.FreeAddr(t)
		c.TLS = &TLSConfig{HTTPSBind: httpsAddr, LANNames: []string{"localhost", "127.0.0.1", "pi.local"}}
	})
	f.addScript(t, "s-params", "app1", paramsScript)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "{tenant}.apps.test", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/hello/:who", Target: "s-params"}}})
	_, port, _ := net.SplitHostPort(httpsAddr)

	// The root is public, over plain HTTP: a client needs it before it can
	// verify anything.
	status, hdr, body := get(t, f.base+"/admin/ca.crt", "")
	if status != 200 {
		t.Fatalf("/admin/ca.crt = %d %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/x-pem-file" {
		t.Errorf("content type %q", ct)
	}
	block, _ := pem.Decode([]byte(body))
	if block == nil {
		t.Fatalf("not PEM: %q", body)
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !root.IsCA || root.Subject.CommonName != "PiCloud Root CA" {
		t.Errorf("root: CA %v, CN %q", root.IsCA, root.Subject.CommonName)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	c := tlsClient(roots, httpsAddr)

	tests := []struct {
		name    string
		url     string
		status  int
		want    string
		wantErr string
	}{
		{"lan name", "https://localhost:" + port + "/healthz", 200, "ok", ""},
		{"mdns name", "https://pi.local:" + port + "/healthz", 200, "ok", ""},
		{"ip without sni", "https://127.0.0.1:" + port + "/healthz", 200, "ok", ""},
		{"claimed host on demand", "https://acme.apps.test:" + port + "/hello/bob", 200, `"tenant":"acme"`, ""},
		{"second tenant", "https://beta.apps.test:" + port + "/hello/amy", 200, `"who":"amy"`, ""},
		{"unclaimed host gets no certificate", "https://evil.example.org:" + port + "/", 0, "", "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Get(tt.url)
			if tt.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %d, want a TLS error", resp.StatusCode)
				}
				if !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, b, tt.status, tt.want)
			}
			if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
				t.Fatal("no verified chain")
			}
			chain := resp.TLS.VerifiedChains[0]
			if !chain[len(chain)-1].Equal(root) {
				t.Error("chain does not end at the exported root")
			}
		})
	}

	// The system roots alone do not trust it.
	plain := tlsClient(nil, httpsAddr)
	if _, err := plain.Get("https://localhost:" + port + "/healthz"); err == nil {
		t.Error("a client without the PiCloud root trusted the certificate")
	} else {
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) && !strings.Contains(err.Error(), "unknown authority") {
			t.Errorf("want an unknown-authority error, got %v", err)
		}
	}

	// Plain HTTP redirects to HTTPS, keeping host, path and query.
	req, _ := http.NewRequest(http.MethodGet, f.base+"/hello/x?y=1", nil)
	req.Host = "acme.apps.test"
	resp, err := tlsClient(nil, strings.TrimPrefix(f.base, "http://")).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "https://acme.apps.test:"+port+"/hello/x?y=1" {
		t.Errorf("redirect = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _, b := get(t, f.base+"/healthz", ""); st != 200 || b != "ok" {
		t.Errorf("/healthz over http = %d %q", st, b)
	}
}

func TestRootCertWithoutTLS(t *testing.T) {
	f := newFixture(t, nil)
	status, _, body := get(t, f.base+"/admin/ca.crt", "")
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal([]byte(body), &e)
	if status != 404 || e.Error.Code != "no_ca" {
		t.Errorf("/admin/ca.crt without TLS = %d %s", status, body)
	}
}
