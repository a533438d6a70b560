package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/edge"
	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/pgtest"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"

	"github.com/picloud/picloud/internal/testnet"
)

// startEdge runs one "node": its own manager (pool) on the shared database
// and an edge serving HTTPS from the Postgres certificate store.
func startEdge(t *testing.T, dsn string) (*edge.Server, string, string) {
	t.Helper()
	return startEdgeIn(t, dsn, t.TempDir())
}

// startEdgeIn is startEdge with storageDir as the edge's file storage,
// which a Postgres-backed edge must leave untouched.
func startEdgeIn(t *testing.T, dsn, storageDir string) (*edge.Server, string, string) {
	t.Helper()
	engine, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := manager.Open(context.Background(), manager.Config{DatabaseURL: dsn, Compiler: compiler{engine}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	httpAddr, httpsAddr := testnet.FreeAddr(t), testnet.FreeAddr(t)
	srv, err := edge.New(edge.Config{
		Bind: httpAddr, StorageDir: storageDir, Admin: mgr.Handler(), Executor: engine, Catalog: catalog{mgr: mgr, ceilings: limits.Ceilings},
		CertStore:     mgr.CertStore(),
		DatabaseStats: dbStats{mgr},
		TLS:           &edge.TLSConfig{HTTPSBind: httpsAddr, LANNames: []string{"localhost", "127.0.0.1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	return srv, httpAddr, httpsAddr
}

func fetchRoot(t *testing.T, httpAddr string) *x509.Certificate {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/admin/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if resp.StatusCode != 200 || block == nil {
		t.Fatalf("/admin/ca.crt = %d %q", resp.StatusCode, b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leaf fetches over TLS trusting only root and returns the served leaf.
func leaf(t *testing.T, root *x509.Certificate, httpsAddr string) *x509.Certificate {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(root)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, port, _ := net.SplitHostPort(httpsAddr)
	resp, err := c.Get("https://localhost:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("/healthz = %d %q", resp.StatusCode, b)
	}
	return resp.TLS.PeerCertificates[0]
}

// The CA root and the certificates live in Postgres: a second node (a new
// manager pool and edge on the same database, after the first stopped,
// since Caddy is one per process) serves the same root and the same leaf.
func TestClusterSharesCAAndCertificates(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv1, http1, https1 := startEdge(t, dsn)
	root1 := fetchRoot(t, http1)
	leaf1 := leaf(t, root1, https1)
	if err := srv1.Stop(); err != nil {
		t.Fatal(err)
	}

	srv2, http2, https2 := startEdge(t, dsn)
	defer srv2.Stop()
	root2 := fetchRoot(t, http2)
	if !root1.Equal(root2) {
		t.Fatalf("second node has another root: %s vs %s", root1.SerialNumber, root2.SerialNumber)
	}
	leaf2 := leaf(t, root1, https2)
	if leaf1.SerialNumber.Cmp(leaf2.SerialNumber) != 0 {
		t.Errorf("second node issued a new certificate (serial %s, first %s) instead of loading the shared one",
			leaf2.SerialNumber, leaf1.SerialNumber)
	}
}

// Caddy's storage and locks are Postgres: while another node holds the
// issuance lock for localhost this node serves no certificate for it;
// once released, it issues one, and the root and the leaf are rows of
// cert_storage, not files.
func TestCertificatesAndLocksLiveInPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	engine, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := manager.Open(ctx, manager.Config{DatabaseURL: dsn, Compiler: compiler{engine}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	store := other.CertStore()          // another node's view of the store
	const lock = "issue_cert_localhost" // certmagic's issuance lock name
	if err := store.Lock(ctx, lock); err != nil {
		t.Fatal(err)
	}

	files := t.TempDir()
	srv, httpAddr, httpsAddr := startEdgeIn(t, dsn, files)
	defer srv.Stop()
	root := fetchRoot(t, httpAddr)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	_, port, _ := net.SplitHostPort(httpsAddr)
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := c.Get("https://localhost:" + port + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a certificate for localhost was served while another node held its issuance lock")
	}
	if keys, err := store.List(ctx, "certificates/"); err != nil || len(keys) != 0 {
		t.Fatalf("certificates stored while the lock was held: %v %v", keys, err)
	}

	if err := store.Unlock(ctx, lock); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get("https://localhost:" + port + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate for localhost 30s after the lock was released: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	keys, err := store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var haveRoot, haveLeaf bool
	for _, k := range keys {
		haveRoot = haveRoot || k == "pki/authorities/local/root.crt"
		haveLeaf = haveLeaf || (strings.HasPrefix(k, "certificates/") && strings.HasSuffix(k, "/localhost.crt"))
	}
	if !haveRoot || !haveLeaf {
		t.Errorf("cert_storage keys %q: want the CA root and the localhost leaf", keys)
	}
	if entries, err := os.ReadDir(files); err != nil || len(entries) != 0 {
		t.Errorf("the file storage was used: %v %v", entries, err)
	}
}
