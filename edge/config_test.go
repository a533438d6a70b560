package edge

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/picloud/picloud/internal/route"
)

func TestIsPublicName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"api.example.com", true},
		{"*.example.com", true},
		{"shop.co.uk", true},
		{"localhost", false},
		{"pi.local", false},
		{"nas.home.arpa", false},
		{"app.internal", false},
		{"router.lan", false},
		{"apps.test", false},
		{"192.168.1.10", false},
		{"10.0.0.1", false},
		{"picloud", false},
		{"*.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isPublicName(tt.name); got != tt.want {
				t.Errorf("isPublicName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestCaddyConfigACME(t *testing.T) {
	claims := []route.Claim{
		{Pattern: "api.example.com"}, {Pattern: "{tenant}.example.com"}, {Pattern: "*.shop.example.org"},
		{Pattern: "pi.local"}, {Pattern: "{x}.apps.test"}, {Pattern: "api.example.com"},
	}
	names := acmeNames(claims)
	if want := []string{"*.example.com", "*.shop.example.org", "api.example.com"}; !slices.Equal(names, want) {
		t.Fatalf("acmeNames = %v, want %v", names, want)
	}
	tests := []struct {
		name         string
		acme         ACMEConfig
		wantPolicies int
		wantACME     bool
	}{
		{"acme off: every name from the PiCloud CA", ACMEConfig{}, 2, false},
		{"acme on: public names from ACME", ACMEConfig{Enabled: true, Directory: "https://acme.test/dir", Email: "ops@example.com", CARootFile: "/etc/ca.pem"}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := caddyConfig(configParams{
				instance: "x", httpBind: ":80", storage: map[string]any{"module": "picloud", "instance": "x"},
				tls: &TLSConfig{HTTPSBind: ":443", LANNames: []string{"localhost", "pi.local"}, ACME: tt.acme}, acmeNames: names,
			})
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Apps struct {
					HTTP struct {
						Servers map[string]struct {
							Listen []string `json:"listen"`
							Routes []struct {
								Handle []map[string]any `json:"handle"`
							} `json:"routes"`
						} `json:"servers"`
					} `json:"http"`
					TLS struct {
						Automation struct {
							Policies []struct {
								Subjects []string         `json:"subjects"`
								Issuers  []map[string]any `json:"issuers"`
								OnDemand bool             `json:"on_demand"`
							} `json:"policies"`
							OnDemand struct {
								Permission map[string]any `json:"permission"`
							} `json:"on_demand"`
						} `json:"automation"`
					} `json:"tls"`
					PKI struct {
						CAs map[string]map[string]any `json:"certificate_authorities"`
					} `json:"pki"`
				} `json:"apps"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			srv := cfg.Apps.HTTP.Servers
			if !slices.Equal(srv["picloud"].Listen, []string{":443"}) || !slices.Equal(srv["redirect"].Listen, []string{":80"}) {
				t.Errorf("listeners: %+v", srv)
			}
			redirect := srv["redirect"].Routes[1].Handle[0]
			if redirect["handler"] != "static_response" || redirect["status_code"] != 308.0 {
				t.Errorf("redirect handler %v", redirect)
			}
			if ca := cfg.Apps.PKI.CAs[caID]; ca["install_trust"] != false || ca["root_common_name"] != "PiCloud Root CA" {
				t.Errorf("pki CA %v", ca)
			}
			pols := cfg.Apps.TLS.Automation.Policies
			if len(pols) != tt.wantPolicies {
				t.Fatalf("%d policies, want %d: %+v", len(pols), tt.wantPolicies, pols)
			}
			if cfg.Apps.TLS.Automation.OnDemand.Permission["module"] != "picloud" {
				t.Error("on-demand issuance has no permission module")
			}
			last := pols[len(pols)-1]
			if len(last.Subjects) != 0 || last.Issuers[0]["module"] != "internal" || !last.OnDemand {
				t.Errorf("catch-all policy %+v", last)
			}
			var sawACME bool
			for _, p := range pols {
				if p.Issuers[0]["module"] == "acme" {
					sawACME = true
					if !slices.Equal(p.Subjects, names) || p.Issuers[0]["ca"] != tt.acme.Directory ||
						p.Issuers[0]["email"] != tt.acme.Email {
						t.Errorf("acme policy %+v", p)
					}
				}
			}
			if sawACME != tt.wantACME {
				t.Errorf("acme policy present = %v, want %v", sawACME, tt.wantACME)
			}
		})
	}
}
