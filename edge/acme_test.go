package edge

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"

	"github.com/picloud/picloud/internal/route"

	"github.com/picloud/picloud/internal/testnet"
)

// pebbleACME runs Pebble (Let's Encrypt's ACME test server) in process on
// loopback, with a DNS server answering 127.0.0.1 for every name so its
// HTTP-01 and TLS-ALPN-01 validations reach the node's ports. It returns the directory
// URL, a PEM file trusting the directory's TLS, and Pebble's issuing root.
func pebbleACME(t *testing.T, httpPort, tlsPort int) (dir, tlsRootFile string, root *x509.Certificate) {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logger := log.New(io.Discard, "", 0)

	dnsAddr := testnet.FreeAddr(t)
	dns, err := challtestsrv.New(challtestsrv.Config{Log: logger, DNSAddrs: []string{dnsAddr}})
	if err != nil {
		t.Fatal(err)
	}
	dns.SetDefaultDNSIPv6("") // no AAAA: the node listens on 127.0.0.1 only
	go dns.Run()
	t.Cleanup(dns.Shutdown)
	time.Sleep(100 * time.Millisecond) // let the DNS listeners bind

	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, httpPort, tlsPort, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 3, 5)

	acmeSrv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(acmeSrv.Close)
	mgmt := httptest.NewTLSServer(front.ManagementHandler())
	t.Cleanup(mgmt.Close)

	tlsRootFile = filepath.Join(t.TempDir(), "acme-server.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: acmeSrv.Certificate().Raw})
	if err := os.WriteFile(tlsRootFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := mgmt.Client().Get(mgmt.URL + wfe.RootCertPath + "0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("pebble root: %q", b)
	}
	if root, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	return acmeSrv.URL + wfe.DirectoryPath, tlsRootFile, root
}

// TestACMEIssuance gets a certificate for a public app domain from a real
// ACME server (Pebble, on loopback) through Caddy's ACME issuer and the
// HTTP-01 or TLS-ALPN-01 challenge on the node's ports, and serves it.
func TestACMEIssuance(t *testing.T) {
	httpAddr, httpsAddr := testnet.FreeAddr(t), testnet.FreeAddr(t)
	_, hp, _ := net.SplitHostPort(httpAddr)
	_, sp, _ := net.SplitHostPort(httpsAddr)
	httpPort, _ := strconv.Atoi(hp)
	httpsPort, _ := strconv.Atoi(sp)
	dir, tlsRoot, acmeRoot := pebbleACME(t, httpPort, httpsPort)

	kv := &memKV{m: map[string][]byte{}}
	var files string
	f := newFixture(t, func(c *Config) {
		files = c.StorageDir
		c.CertStore = kv // the storage module path a Postgres store takes
		c.Bind = httpAddr
		c.TLS = &TLSConfig{HTTPSBind: httpsAddr, LANNames: []string{"localhost"},
			ACME: ACMEConfig{Enabled: true, Directory: dir, CARootFile: tlsRoot, Email: "ops@example.com"}}
	})
	f.addScript(t, "s-params", "app1", paramsScript)
	// Claims are in place before the first load, so the ACME policy lists
	// the public name at once.
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "shop.example.com", AppID: "app1"}, {ID: "c2", Pattern: "{t}.apps.test", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/:x", Target: "s-params"}}})
	waitFor(t, 20*time.Second, func() bool {
		f.srv.loadMu.Lock()
		defer f.srv.loadMu.Unlock()
		return len(f.srv.acmeNames) == 1
	})

	_, port, _ := net.SplitHostPort(httpsAddr)
	acmePool := x509.NewCertPool()
	acmePool.AddCert(acmeRoot)
	resp, err := tlsClient(acmePool, httpsAddr).Get("https://shop.example.com:" + port + "/hi")
	if err != nil {
		t.Fatalf("fetching over the ACME certificate: %v\n%s", err, tail(f.logs.String(), 3000))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"x":"hi"`) {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if leaf.Issuer.CommonName == "PiCloud Intermediate CA" || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Errorf("public name issued by %q, want Pebble", leaf.Issuer.CommonName)
	}

	// The ACME account and the certificate went through the storage
	// module into the store, not into files.
	keys, _ := kv.List(context.Background(), "")
	var account, cert bool
	for _, k := range keys {
		account = account || strings.HasPrefix(k, "acme/") && strings.HasSuffix(k, ".json")
		cert = cert || strings.HasPrefix(k, "certificates/") && strings.HasSuffix(k, "/shop.example.com.crt")
	}
	if !account || !cert {
		t.Errorf("store keys %q: want an ACME account and the shop.example.com certificate", keys)
	}
	if entries, err := os.ReadDir(files); err != nil || len(entries) != 0 {
		t.Errorf("file storage used: %v %v", entries, err)
	}

	// A non-public claim still comes from the PiCloud CA.
	status, _, rootPEM := get(t, f.base+"/admin/ca.crt", "")
	if status != 200 {
		t.Fatalf("/admin/ca.crt = %d", status)
	}
	picloud := x509.NewCertPool()
	picloud.AppendCertsFromPEM([]byte(rootPEM))
	resp2, err := tlsClient(picloud, httpsAddr).Get("https://a.apps.test:" + port + "/hi")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if cn := resp2.TLS.PeerCertificates[0].Issuer.CommonName; cn != "PiCloud Intermediate CA" {
		t.Errorf("LAN claim issued by %q", cn)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
