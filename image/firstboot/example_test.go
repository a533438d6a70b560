package firstboot

import (
	"os"
	"testing"
)

// The example shipped on every card must parse and scrub.
func TestShippedExample(t *testing.T) {
	b, err := os.ReadFile("../picloud.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseTOML(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.WiFi != nil || s.Hostname != "" || s.AdminUser != "admin" || s.ClusterName != "picloud" {
		t.Errorf("defaults changed: %+v", s)
	}
	if _, err := ScrubTOML(b, "x"); err != nil {
		t.Fatal(err)
	}
}
