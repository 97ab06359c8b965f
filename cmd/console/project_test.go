package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
)

// adminCLI is a fresh database, the environment that points the console at
// it, and a store opened with the same master key to check what commands did.
type adminCLI struct {
	environ map[string]string
	st      *store.Store
	dir     string
}

func setupAdminCLI(t *testing.T) adminCLI {
	t.Helper()
	u := pgtest.New(t).RuntimeURL
	raw := bytes.Repeat([]byte{7}, 32)
	keys, err := store.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), u, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return adminCLI{st: st, dir: t.TempDir(), environ: map[string]string{
		"DATABASE_URL": u, "CONSOLE_MASTER_KEY": base64.StdEncoding.EncodeToString(raw)}}
}

// adminSecret is the ServerSecret of projects the admin CLI tests create.
const adminSecret = "0123456789abcdef0123456789abcdef"

// secretFile writes adminSecret, with a newline, to a file and returns its path.
func (a adminCLI) secretFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(a.dir, "secret")
	if err := os.WriteFile(path, []byte(adminSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// adminResult is what one in-process run of the console left behind.
type adminResult struct {
	code           int
	stdout, stderr string
}

// runAdminCLI runs the command line in-process with stdin and the environment.
func runAdminCLI(t *testing.T, stdin string, environ map[string]string, args ...string) adminResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return environ[k] }}
	code := exitCode(run(t.Context(), e, args), &stderr)
	return adminResult{code, stdout.String(), stderr.String()}
}

// run runs the console with the database environment.
func (a adminCLI) run(t *testing.T, stdin string, args ...string) adminResult {
	t.Helper()
	return runAdminCLI(t, stdin, a.environ, args...)
}

func TestProjectCLI_CreateThenListAndIssueWithIt(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	r := a.run(t, "", "project", "create", "--name", "Live rooms", "--app-id", "1234567", "--secret-file", a.secretFile(t),
		"--env", "prod", "--default-ttl", "30m", "--max-ttl", "2d", "--no-publish")
	if r.code != 0 || !strings.Contains(r.stdout, "AppID 1234567") || strings.Contains(r.stdout+r.stderr, adminSecret) {
		t.Fatalf("create: got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	p, err := a.st.ProjectByAppID(t.Context(), 1234567)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Live rooms" || p.Environment != "prod" || p.DefaultTTLSeconds != 1800 || p.MaxTTLSeconds != 2*86400 || p.PublishAllowed {
		t.Fatalf("got project %+v", p)
	}
	if _, err := a.st.IssueToken(t.Context(), store.IssueRequest{AppID: 1234567, UserID: "u", Channel: store.ChannelCLI, Actor: cliActor}); err != nil {
		t.Fatalf("issue with the CLI-made project: %v", err)
	}
	var actor string
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT actor_type || '/' || actor_name FROM audit_events WHERE action = 'project.create'`).Scan(&actor); err != nil || actor != "cli/cli" {
		t.Fatalf("project.create actor: got %q (%v), want cli/cli", actor, err)
	}

	r = a.run(t, "", "project", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "1234567") || !strings.Contains(r.stdout, "Live rooms") || !strings.Contains(r.stdout, "  30m  ") || !strings.Contains(r.stdout, "  48h  ") {
		t.Fatalf("list: got exit %d, stdout %q", r.code, r.stdout)
	}
	r = a.run(t, "", "project", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0]["app_id"] != float64(1234567) || list[0]["secret_version"] != float64(1) {
		t.Fatalf("list --json: got %q (%v)", r.stdout, err)
	}
	if strings.Contains(r.stdout, adminSecret) {
		t.Fatal("list --json shows the secret")
	}
}

func TestProjectCLI_ReadsTheSecretFromStdin(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	if r := a.run(t, adminSecret+"\r\n", "project", "create", "--name", "P", "--app-id", "7", "--secret-file", "-"); r.code != 0 {
		t.Fatalf("got exit %d (%s)", r.code, r.stderr)
	}
}

func TestProjectCLI_BadInputIsExit2AndChangesNothing(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	secret := a.secretFile(t)
	short := filepath.Join(a.dir, "short")
	if err := os.WriteFile(short, []byte("tooshort"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--app-id", "1", "--secret-file", secret}, "required"},
		{[]string{"--name", "P", "--secret-file", secret}, "required"},
		{[]string{"--name", "P", "--app-id", "1"}, "required"},
		{[]string{"--name", "P", "--app-id", "4294967296", "--secret-file", secret}, "AppID"},
		{[]string{"--name", "P", "--app-id", "x", "--secret-file", secret}, "app-id"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", short}, "32 printable"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", filepath.Join(a.dir, "missing")}, "secret-file"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", secret, "--default-ttl", "2h", "--max-ttl", "1h"}, "default_ttl"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", secret, "--max-ttl", "forever"}, "max-ttl"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", secret, "--env", "Prod!"}, "environment"},
		{[]string{"--name", "P", "--app-id", "1", "--secret-file", secret, "extra"}, "unexpected"},
	} {
		r := a.run(t, "", append([]string{"project", "create"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: got exit %d, stderr %q; want 2 mentioning %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	var n int
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("got %d projects after bad input (%v), want none", n, err)
	}
	if r := a.run(t, "", "project", "create", "--name", "P", "--app-id", "1", "--secret-file", secret); r.code != 0 {
		t.Fatalf("good input after the bad: got exit %d (%s)", r.code, r.stderr)
	}
	if r := a.run(t, "", "project", "create", "--name", "Q", "--app-id", "1", "--secret-file", secret); r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate AppID: got exit %d (%s), want 2", r.code, r.stderr)
	}
	if r := a.run(t, "", "project", "frobnicate"); r.code != 2 {
		t.Fatalf("unknown subcommand: got exit %d, want 2", r.code)
	}
}

func TestProjectCLI_ZEGOSettingsOnCreateAndUpdateChangeOnlyWhatIsGiven(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	r := a.run(t, "", "project", "create", "--name", "Live", "--app-id", "77", "--secret-file", a.secretFile(t),
		"--kick-on-revoke", "--zego-services", "zim,rtc", "--zego-region", "sha")
	if r.code != 0 || !strings.Contains(r.stdout, "kick on revoke on (rtc, zim via sha)") {
		t.Fatalf("create: got exit %d, %q %q; want 0 saying kicks go to rtc and zim via sha", r.code, r.stdout, r.stderr)
	}
	list := func() projectListItem {
		t.Helper()
		r := a.run(t, "", "project", "list", "--json")
		var items []projectListItem
		if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 1 {
			t.Fatalf("project list --json: got %q (%v)", r.stdout, err)
		}
		return items[0]
	}
	if p := list(); !p.KickOnRevoke || strings.Join(p.ZegoServices, ",") != "rtc,zim" || p.ZegoRegion != "sha" {
		t.Fatalf("after create: got %+v", p)
	}
	if r := a.run(t, "", "project", "update", "--app-id", "77", "--kick-on-revoke=false", "--name", "Live (prod)"); r.code != 0 {
		t.Fatalf("update: got exit %d (%s)", r.code, r.stderr)
	}
	p := list()
	if p.KickOnRevoke || p.Name != "Live (prod)" || strings.Join(p.ZegoServices, ",") != "rtc,zim" || p.ZegoRegion != "sha" ||
		p.DefaultTTLSeconds != 3600 || !p.PublishAllowed {
		t.Fatalf("after update: got %+v, want kick off and the new name, the rest as it was", p)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--app-id", "77", "--zego-services", "rtc,voice"}, "unknown product"},
		{[]string{"--app-id", "77", "--zego-services", ""}, "zego_services"},
		{[]string{"--app-id", "77", "--zego-region", "mars"}, "zego_region"},
		{[]string{"--app-id", "77", "--publish", "--no-publish"}, "contradict"},
		{[]string{"--zego-region", "sha"}, "--app-id is required"},
	} {
		r := a.run(t, "", append([]string{"project", "update"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: got exit %d, stderr %q; want 2 mentioning %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := a.run(t, "", "project", "update", "--app-id", "78", "--name", "X"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("an unknown project: got exit %d, stderr %q; want 1, not found", r.code, r.stderr)
	}
	if got := list(); got.Name != "Live (prod)" || got.ZegoRegion != "sha" {
		t.Errorf("bad updates changed the project: %+v", got)
	}
	var n int
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events
		WHERE action = 'project.update' AND details->'after'->>'kick_on_revoke' = 'false'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("got %d project.update events with kick_on_revoke off (%v), want 1", n, err)
	}
}
