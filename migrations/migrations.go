// Package migrations embeds PiCloud's forward-only SQL schema migrations.
//
// Files are named NNNN_description.sql and applied in order by the manager,
// each in its own transaction. Only the manager may import this package.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
