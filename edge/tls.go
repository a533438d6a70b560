package edge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/caddyserver/certmagic"

	"github.com/picloud/picloud/internal/route"
)

// TLSConfig turns HTTPS on. The zero value of Config.TLS (nil) serves plain
// HTTP only, as `picloud dev` does.
type TLSConfig struct {
	// HTTPSBind is the HTTPS listen address, e.g. ":443". Config.Bind then
	// only redirects to it (and answers /healthz).
	HTTPSBind string
	// LANNames get certificates from the PiCloud CA at start: the node's
	// hostname.local, localhost, its IP addresses. LANNames returns the
	// usual set.
	LANNames []string
	ACME     ACMEConfig
}

// ACMEConfig lets public app domains use an ACME CA (Let's Encrypt by
// default). Off unless Enabled.
type ACMEConfig struct {
	Enabled bool
	// Directory is the ACME directory URL; empty is Let's Encrypt.
	Directory string
	Email     string
	// CARootFile is a PEM file of roots to trust for the ACME server (a
	// private or test CA).
	CARootFile string
}

// ErrNoCA is returned when HTTPS is off, so no PiCloud CA exists.
var ErrNoCA = errors.New("https is off: there is no PiCloud CA")

// LANNames returns the names a node is reached by on a LAN: localhost, its
// hostname and hostname.local, and the addresses of its interfaces.
func LANNames() []string {
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" {
		h = strings.ToLower(strings.TrimSuffix(h, ".local"))
		names = append(names, h, h+".local")
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
				names = append(names, ipn.IP.String())
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// isPublicName says whether a certificate name can come from a public ACME
// CA: a DNS name under a public suffix, not a LAN or special-use name.
func isPublicName(name string) bool {
	if !certmagic.SubjectQualifiesForPublicCert(name) || !strings.Contains(name, ".") {
		return false
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	switch last {
	case "lan", "home", "corp", "intranet", "private", "test", "example", "invalid", "arpa":
		return false
	}
	return true
}

// acmeNames are the certificate subjects of public claims: exact names as
// they are, wildcard and parameterized ones as "*.suffix" (one label, which
// is what a certificate wildcard covers).
func acmeNames(claims []route.Claim) []string {
	var out []string
	for _, c := range claims {
		d, err := route.ParseDomain(c.Pattern)
		if err != nil {
			continue
		}
		name := d.Shape()
		if isPublicName(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// certificateAllowed permits on-demand issuance for claimed hosts and LAN
// names only.
func (s *Server) certificateAllowed(ctx context.Context, name string) error {
	name = route.NormalizeHost(name)
	if s.cfg.TLS != nil && slices.Contains(s.cfg.TLS.LANNames, name) {
		return nil
	}
	t, err := s.dispatch(ctx)
	if err != nil {
		return fmt.Errorf("loading domain claims: %w", err)
	}
	if _, _, ok := t.domains.Match(name); ok {
		return nil
	}
	return fmt.Errorf("no app claims %q", name)
}

// RootCertificate returns the PiCloud CA's root certificate (PEM). The root
// is created once, on the first start with HTTPS, and kept in the
// certificate store, so every node of a cluster issues from it.
func (s *Server) RootCertificate(ctx context.Context) ([]byte, error) {
	if s.cfg.TLS == nil {
		return nil, ErrNoCA
	}
	pem, err := s.storage.Load(ctx, "pki/authorities/"+caID+"/root.crt")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the PiCloud CA is not created yet: %w", err)
	}
	return pem, err
}

func (s *Server) serveRootCert(w http.ResponseWriter, r *http.Request) {
	pem, err := s.RootCertificate(r.Context())
	if errors.Is(err, ErrNoCA) {
		writeError(w, http.StatusNotFound, "no_ca", "HTTPS is off on this node, so it has no certificate authority")
		return
	}
	if err != nil {
		s.log.Error("loading root certificate", "err", err)
		writeError(w, http.StatusServiceUnavailable, "ca_unavailable", "the root certificate cannot be loaded right now")
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="picloud-root-ca.crt"`)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(pem)
}
