package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/picloud/picloud/edge"
	"time"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/manager"
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
	// IdleRuntimes bounds the warm runtimes kept over all scripts
	// (PICLOUD_IDLE_RUNTIMES); each holds about 850 KB.
	IdleRuntimes int
	// PublicBaseURL is how clients reach this node (PICLOUD_PUBLIC_BASE_URL).
	PublicBaseURL string
	// PostgresUser runs the managed Postgres when the agent is root
	// (PICLOUD_PG_USER).
	PostgresUser string
	// HTTPSBind turns HTTPS on at this address (PICLOUD_HTTPS_BIND; "off"
	// or empty disables it). Bind then redirects to it.
	HTTPSBind string
	// TLSNames are extra names to get PiCloud CA certificates for, beside
	// localhost, the hostname, hostname.local and the node's IPs
	// (PICLOUD_TLS_NAMES, comma-separated).
	TLSNames []string
	// ACME lets public app domains get certificates from an ACME CA
	// (PICLOUD_ACME=on, PICLOUD_ACME_EMAIL, PICLOUD_ACME_DIRECTORY,
	// PICLOUD_ACME_CA_ROOT).
	ACME          bool
	ACMEEmail     string
	ACMEDirectory string
	ACMECARoot    string
	// HTTPAllowPrivate lets scripts' fetch() reach loopback and private
	// addresses (PICLOUD_HTTP_ALLOW_PRIVATE=1/true); for development only.
	HTTPAllowPrivate bool
	// SessionTTLHours is the sliding lifetime of admin login sessions
	// (PICLOUD_SESSION_TTL_HOURS, default 24).
	SessionTTLHours int
	// SecretKey is the base64 key sealing app secrets
	// (PICLOUD_SECRET_KEY); generated under DataDir when empty.
	SecretKey string
	// Logs bounds the execution log per app (PICLOUD_LOG_RETAIN_EXECUTIONS,
	// PICLOUD_LOG_RETAIN_LINES, PICLOUD_LOG_RETAIN_AGE); zero takes the
	// manager's defaults.
	Logs manager.LogConfig
	// DebugBind serves Go's profiler (/debug/pprof/) on this loopback
	// address (PICLOUD_DEBUG_BIND); off when empty.
	DebugBind string
	// LimitCeilings bound per-script sandbox overrides
	// (PICLOUD_LIMIT_CEILINGS, a JSON object over limits.Ceilings).
	LimitCeilings limits.Limits
}

// Defaults returns the configuration of mode before the environment is
// applied.
func Defaults(mode Mode) Config {
	c := Config{Mode: mode, MaxConcurrent: 32, IdleRuntimes: 128, AdminUser: "admin", SessionTTLHours: 24, LimitCeilings: limits.Ceilings}
	switch mode {
	case ModeDev:
		c.Bind = "127.0.0.1:8080"
		c.DataDir = ".picloud"
	default:
		c.Bind = ":80"
		c.HTTPSBind = ":443"
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
	str("PICLOUD_HTTPS_BIND", &c.HTTPSBind)
	if c.HTTPSBind == "off" {
		c.HTTPSBind = ""
	}
	if v := getenv("PICLOUD_TLS_NAMES"); v != "" {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				c.TLSNames = append(c.TLSNames, strings.ToLower(n))
			}
		}
	}
	switch v := getenv("PICLOUD_ACME"); v {
	case "":
	case "on", "true", "1":
		c.ACME = true
	case "off", "false", "0":
		c.ACME = false
	default:
		errs = append(errs, fmt.Errorf("PICLOUD_ACME=%q must be on or off", v))
	}
	str("PICLOUD_ACME_EMAIL", &c.ACMEEmail)
	str("PICLOUD_ACME_DIRECTORY", &c.ACMEDirectory)
	str("PICLOUD_ACME_CA_ROOT", &c.ACMECARoot)
	str("PICLOUD_SECRET_KEY", &c.SecretKey)
	str("PICLOUD_DEBUG_BIND", &c.DebugBind)
	for key, dst := range map[string]*int{
		"PICLOUD_LOG_RETAIN_EXECUTIONS": &c.Logs.RetainExecutions,
		"PICLOUD_LOG_RETAIN_LINES":      &c.Logs.RetainLines,
	} {
		if v := getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s=%q is not a positive number", key, v))
			}
			*dst = n
		}
	}
	if v := getenv("PICLOUD_LOG_RETAIN_AGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("PICLOUD_LOG_RETAIN_AGE=%q is not a positive duration (e.g. 72h)", v))
		}
		c.Logs.RetainAge = d
	}
	if v := getenv("PICLOUD_HTTP_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PICLOUD_HTTP_ALLOW_PRIVATE=%q is not a boolean", v))
		}
		c.HTTPAllowPrivate = b
	}
	for name, dst := range map[string]*int{
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS": &c.MaxConcurrent,
		"PICLOUD_IDLE_RUNTIMES":             &c.IdleRuntimes,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not a number", name, v))
			}
			*dst = n
		}
	}
	if v := getenv("PICLOUD_SESSION_TTL_HOURS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("PICLOUD_SESSION_TTL_HOURS=%q is not a positive number of hours", v))
		}
		c.SessionTTLHours = n
	}
	if v := getenv("PICLOUD_LIMIT_CEILINGS"); v != "" {
		lc, err := limits.ParseCeilings(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.LimitCeilings = lc
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
	if c.HTTPSBind != "" {
		if _, _, err := net.SplitHostPort(c.HTTPSBind); err != nil {
			errs = append(errs, fmt.Errorf("https bind address %q: %w", c.HTTPSBind, err))
		}
	} else if c.ACME {
		errs = append(errs, errors.New("PICLOUD_ACME=on needs HTTPS (PICLOUD_HTTPS_BIND)"))
	}
	if c.DebugBind != "" && !loopbackAddr(c.DebugBind) {
		errs = append(errs, fmt.Errorf("debug bind address %q must be a loopback address such as 127.0.0.1:6060: the profiler exposes the process", c.DebugBind))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("max concurrent executions must be at least 1, got %d", c.MaxConcurrent))
	}
	if c.IdleRuntimes < 1 {
		errs = append(errs, fmt.Errorf("idle runtimes must be at least 1, got %d", c.IdleRuntimes))
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
	scheme, bind, defPort := "http", c.Bind, "80"
	if c.HTTPSBind != "" {
		scheme, bind, defPort = "https", c.HTTPSBind, "443"
	}
	host, port, _ := net.SplitHostPort(bind)
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	if host == "127.0.0.1" || host == "::1" {
		host = "localhost"
	}
	if port == defPort {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func (c Config) absDataDir() (string, error) {
	d, err := filepath.Abs(c.DataDir)
	if err != nil {
		return "", fmt.Errorf("data directory %q: %w", c.DataDir, err)
	}
	return d, nil
}

// tlsConfig is the edge's HTTPS configuration, nil when HTTPS is off.
func (c Config) tlsConfig() *edge.TLSConfig {
	if c.HTTPSBind == "" {
		return nil
	}
	names := append(edge.LANNames(), c.TLSNames...)
	return &edge.TLSConfig{
		HTTPSBind: c.HTTPSBind,
		LANNames:  names,
		ACME: edge.ACMEConfig{Enabled: c.ACME, Directory: c.ACMEDirectory, Email: c.ACMEEmail,
			CARootFile: c.ACMECARoot},
	}
}
