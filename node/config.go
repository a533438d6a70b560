package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mode says which command runs the node.
type Mode string

// Modes of the node.
const (
	ModeDev   Mode = "dev"
	ModeAgent Mode = "agent"
)

// Config is the node's configuration. Defaults depend on Mode; see
// Defaults.
type Config struct {
	Mode Mode
	// Bind is the HTTP listen address (PICLOUD_BIND).
	Bind string
	// DataDir holds the managed Postgres and node state (PICLOUD_DATA_DIR).
	DataDir string
	// DatabaseURL, when set, is used instead of a managed Postgres
	// (DATABASE_URL).
	DatabaseURL string
	// AdminUser and AdminPassword bootstrap the first admin when none
	// exists (PICLOUD_ADMIN_USER, PICLOUD_ADMIN_PASSWORD).
	AdminUser     string
	AdminPassword string
	// MaxConcurrent bounds simultaneous executions
	// (PICLOUD_MAX_CONCURRENT_EXECUTIONS).
	MaxConcurrent int
	// PublicBaseURL is how clients reach this node (PICLOUD_PUBLIC_BASE_URL).
	PublicBaseURL string
	// PostgresUser runs the managed Postgres when the agent is root
	// (PICLOUD_PG_USER).
	PostgresUser string
}

// Defaults returns the configuration of mode before the environment is
// applied.
func Defaults(mode Mode) Config {
	c := Config{Mode: mode, MaxConcurrent: 32, AdminUser: "admin"}
	switch mode {
	case ModeDev:
		c.Bind = "127.0.0.1:8080"
		c.DataDir = ".picloud"
	default:
		c.Bind = ":80"
		c.DataDir = "/var/lib/picloud"
	}
	return c
}

// FromEnv applies PICLOUD_* variables and DATABASE_URL over c.
func (c Config) FromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	str("PICLOUD_BIND", &c.Bind)
	str("PICLOUD_DATA_DIR", &c.DataDir)
	str("DATABASE_URL", &c.DatabaseURL)
	str("PICLOUD_ADMIN_USER", &c.AdminUser)
	str("PICLOUD_ADMIN_PASSWORD", &c.AdminPassword)
	str("PICLOUD_PUBLIC_BASE_URL", &c.PublicBaseURL)
	str("PICLOUD_PG_USER", &c.PostgresUser)
	if v := getenv("PICLOUD_MAX_CONCURRENT_EXECUTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PICLOUD_MAX_CONCURRENT_EXECUTIONS=%q is not a number", v))
		}
		c.MaxConcurrent = n
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Bind); err != nil {
		errs = append(errs, fmt.Errorf("bind address %q: %w", c.Bind, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("max concurrent executions must be at least 1, got %d", c.MaxConcurrent))
	}
	if c.PublicBaseURL != "" && !strings.HasPrefix(c.PublicBaseURL, "http://") && !strings.HasPrefix(c.PublicBaseURL, "https://") {
		errs = append(errs, fmt.Errorf("public base url %q must start with http:// or https://", c.PublicBaseURL))
	}
	return errors.Join(errs...)
}

// publicBaseURL is PublicBaseURL, or one derived from the bind address.
func (c Config) publicBaseURL() string {
	if c.PublicBaseURL != "" {
		return strings.TrimSuffix(c.PublicBaseURL, "/")
	}
	host, port, _ := net.SplitHostPort(c.Bind)
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	if host == "127.0.0.1" || host == "::1" {
		host = "localhost"
	}
	if port == "80" {
		return "http://" + host
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (c Config) absDataDir() (string, error) {
	d, err := filepath.Abs(c.DataDir)
	if err != nil {
		return "", fmt.Errorf("data directory %q: %w", c.DataDir, err)
	}
	return d, nil
}
