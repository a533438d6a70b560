package pgserver

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// confFile is the file Server rewrites on every start; postgresql.conf
// includes it, so hand edits to postgresql.conf stay but ours win.
const confFile = "picloud.conf"

// defaultSettings suit a Raspberry Pi or a laptop: little memory, durable
// writes, few clients. Config.Settings overrides any of them.
var defaultSettings = map[string]string{
	"listen_addresses":             "", // unix socket only
	"unix_socket_permissions":      "0700",
	"max_connections":              "50",
	"shared_buffers":               "64MB",
	"work_mem":                     "4MB",
	"maintenance_work_mem":         "32MB",
	"effective_cache_size":         "256MB",
	"fsync":                        "on",
	"synchronous_commit":           "on",
	"full_page_writes":             "on",
	"wal_compression":              "on",
	"checkpoint_completion_target": "0.9",
	"max_wal_size":                 "512MB",
	"min_wal_size":                 "80MB",
	"logging_collector":            "off", // lines go to stderr, then to slog
	"log_destination":              "stderr",
	"log_line_prefix":              "", // slog adds time and level
	"timezone":                     "UTC",
	"log_timezone":                 "UTC",
}

var settingName = regexp.MustCompile(`^[a-z_][a-z0-9_.]*$`)

// renderConf returns the contents of picloud.conf: defaults, then extra
// (validated names, values quoted), then the socket directory, which is
// not overridable because ConnString depends on it.
func renderConf(extra map[string]string, socketDir string) (string, error) {
	merged := make(map[string]string, len(defaultSettings)+len(extra))
	for k, v := range defaultSettings {
		merged[k] = v
	}
	for k, v := range extra {
		k = strings.ToLower(k)
		if !settingName.MatchString(k) {
			return "", fmt.Errorf("invalid postgres setting name %q", k)
		}
		if k == "unix_socket_directories" || k == "data_directory" {
			return "", fmt.Errorf("postgres setting %s is managed by picloud and cannot be overridden", k)
		}
		merged[k] = v
	}
	merged["unix_socket_directories"] = socketDir
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by picloud on every start; edits are overwritten.\n")
	b.WriteString("# Use the Settings of the picloud config instead.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, quoteConf(merged[k]))
	}
	return b.String(), nil
}

// quoteConf quotes a postgresql.conf value: quotes doubled, backslashes
// escaped, line breaks turned into spaces and NULs dropped, so a value
// cannot end its line and add a setting.
func quoteConf(v string) string {
	v = strings.NewReplacer("\x00", "", "\n", " ", "\r", " ", `\`, `\\`, "'", "''").Replace(v)
	return "'" + v + "'"
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings on).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
