package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/migrations"
)

// runServeToExit runs `console serve` in-process where it is expected to
// refuse to start; should it serve instead, it is stopped after a minute
// (and exits 0, which the caller reports).
func runServeToExit(t *testing.T, environ map[string]string) auditCLIResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	env0 := map[string]string{"CONSOLE_ADDR": "127.0.0.1:0"}
	for k, v := range environ {
		env0[k] = v
	}
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env0[k] }}
	code := exitCode(run(ctx, e, []string{"serve"}), &stderr)
	return auditCLIResult{code, stdout.String(), stderr.String()}
}

// wantExit fails the test unless r exited with code and its stderr holds every one of want.
func wantExit(t *testing.T, what string, r auditCLIResult, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: got exit %d (stdout %q, stderr %q), want %d", what, r.code, r.stdout, r.stderr, code)
		return
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: got stderr %q, want it to mention %q", what, r.stderr, w)
		}
	}
}

func TestServe_RefusesTheOwnerAndASuperuserUnlessExplicitlyAllowed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, c := range []struct{ name, url, why string }{
		{"owner", db.OwnerURL, "the owner of the console's schema"},
		{"superuser", db.SuperuserURL, "a superuser"},
	} {
		environ := map[string]string{"DATABASE_URL": c.url, "CONSOLE_MASTER_KEY": opsNewMasterKey(t)}
		r := runServeToExit(t, environ)
		wantExit(t, c.name+" without CONSOLE_ALLOW_OWNER_ROLE", r, 2, c.why, "console db grant console_runtime",
			"CONSOLE_MIGRATE_DATABASE_URL", "CONSOLE_ALLOW_OWNER_ROLE=true")

		environ["CONSOLE_ALLOW_OWNER_ROLE"] = "true"
		s := startInproc(t, environ)
		if !strings.Contains(s.Log.String(), "CONSOLE_ALLOW_OWNER_ROLE=true") {
			t.Errorf("%s with CONSOLE_ALLOW_OWNER_ROLE=true: got log\n%s\nwant a warning naming the setting", c.name, s.Log)
		}
		if err := s.stop(t); err != nil {
			t.Errorf("%s with CONSOLE_ALLOW_OWNER_ROLE=true: run after cancel: got %v, want nil", c.name, err)
		}
	}
}

func TestServe_RuntimeRoleOnAnUnmigratedDatabaseSaysHowToMigrateAndServesOnceMigratedAndGranted(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	role := db.RuntimeRole
	environ := map[string]string{"DATABASE_URL": db.RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t),
		"CONSOLE_ADMIN_PASSWORD": "runtime-role-admin-pw"}

	wantExit(t, "serve on an unmigrated database", runServeToExit(t, environ), 1,
		"not current", "console migrate", "CONSOLE_MIGRATE_DATABASE_URL")
	wantExit(t, "migrate as the runtime role", runAuditCLI(t, environ, "migrate"), 2, "CONSOLE_MIGRATE_DATABASE_URL", role)
	conn, err := pgx.Connect(t.Context(), db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var migrated bool
	if err := conn.QueryRow(t.Context(), `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&migrated); err != nil || migrated {
		t.Fatalf("after the refusals: got migrated=%v (%v), want an untouched database", migrated, err)
	}

	environ["CONSOLE_MIGRATE_DATABASE_URL"] = db.OwnerURL
	files, _ := fs.Glob(migrations.FS, "*.sql")
	if r := runAuditCLI(t, environ, "migrate"); r.code != 0 || r.stdout != fmt.Sprintf("applied %d migration(s)\n", len(files)) {
		t.Fatalf("migrate as the owner: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	wantExit(t, "serve before the grant", runServeToExit(t, environ), 2, "console db grant "+role)
	for i := range 2 {
		if r := runAuditCLI(t, environ, "db", "grant", role); r.code != 0 || !strings.Contains(r.stdout, "granted "+role) {
			t.Fatalf("db grant %d: exit %d, stdout %q, stderr %q", i+1, r.code, r.stdout, r.stderr)
		}
	}
	s := startInproc(t, environ)
	if s.signIn(t, "admin", environ["CONSOLE_ADMIN_PASSWORD"]) != 303 {
		t.Errorf("sign in on the console serving as the runtime role: want 303")
	}
	if err := s.stop(t); err != nil {
		t.Errorf("run after cancel: got %v, want nil", err)
	}
	if r := runAuditCLI(t, environ, "audit", "seal"); r.code != 0 {
		t.Errorf("audit seal: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runAuditCLI(t, environ, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "audit trail intact") {
		t.Errorf("audit verify: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestDBGrant_SaysHowToCreateAMissingRoleAndRefusesTheRuntimeRole(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	environ := map[string]string{"DATABASE_URL": db.RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t)}
	wantExit(t, "db grant as the runtime role", runAuditCLI(t, environ, "db", "grant", "console_runtime"), 2,
		"CONSOLE_MIGRATE_DATABASE_URL")
	environ["CONSOLE_MIGRATE_DATABASE_URL"] = db.OwnerURL
	// The owner may not create roles, as an owner usually may not.
	wantExit(t, "db grant of a missing role", runAuditCLI(t, environ, "db", "grant", "no_such_console_role"), 1,
		"CREATE ROLE no_such_console_role LOGIN PASSWORD")
	wantExit(t, "db grant of the owner", runAuditCLI(t, environ, "db", "grant", db.OwnerRole), 1, "ordinary role")
	for _, args := range [][]string{{"db"}, {"db", "grant"}, {"db", "grant", "a", "b"}, {"db", "revoke", "a"}} {
		if r := runAuditCLI(t, environ, args...); r.code != 2 {
			t.Errorf("%v: got exit %d (stderr %q), want 2", args, r.code, r.stderr)
		}
	}
	if r := runAuditCLI(t, environ, "db", "grant", "--help"); r.code != 0 || !strings.Contains(r.stderr, "ALTER ROLE console_runtime PASSWORD") {
		t.Errorf("db grant --help: got exit %d, stderr %q; want 0 and how to set a password", r.code, r.stderr)
	}
}
