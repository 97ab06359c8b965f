// Package migrations embeds the SQL schema migrations, applied with goose.
package migrations

import "embed"

// FS holds every migration file, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
