package store

import (
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// pgDump finds pg_dump: on PATH, or beside the server binaries.
func pgDump(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	sort.Strings(m)
	if len(m) == 0 {
		t.Fatal("pg_dump not found: install PostgreSQL client binaries")
	}
	return m[len(m)-1]
}
