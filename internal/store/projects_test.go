package store

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestCreateProject_StoresPolicyAndAuditsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.createProject(t, 1234)
	if p.AppID != 1234 || p.DefaultTTL() != time.Hour || p.MaxTTL() != 24*time.Hour || p.SecretVersion != 1 {
		t.Fatalf("got %+v, want app 1234, 1h/24h, secret v1", p)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'project.create' AND app_id = 1234 AND actor_name = 'alice'`); n != 1 {
		t.Fatalf("project.create events: got %d, want 1", n)
	}
}

func TestCreateProject_RejectsBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1)
	good := ProjectInput{Name: "x", AppID: 2, Environment: "prod", DefaultTTL: time.Hour, MaxTTL: 2 * time.Hour}
	cases := []struct {
		name   string
		edit   func(*ProjectInput)
		secret string
		field  string
	}{
		{"empty name", func(in *ProjectInput) { in.Name = "" }, testSecret, "name"},
		{"app id zero", func(in *ProjectInput) { in.AppID = 0 }, testSecret, "app_id"},
		{"duplicate app id", func(in *ProjectInput) { in.AppID = 1 }, testSecret, "app_id"},
		{"bad environment", func(in *ProjectInput) { in.Environment = "Prod!" }, testSecret, "environment"},
		{"default above max", func(in *ProjectInput) { in.DefaultTTL = 3 * time.Hour }, testSecret, "default_ttl"},
		{"max above 30 days", func(in *ProjectInput) { in.MaxTTL = 31 * 24 * time.Hour }, testSecret, "max_ttl"},
		{"short secret", func(*ProjectInput) {}, "abc", "secret"},
		{"secret with space", func(*ProjectInput) {}, "0123456789abcdef 123456789abcdef", "secret"},
	}
	for _, c := range cases {
		in := good
		c.edit(&in)
		_, err := b.st.CreateProject(b.ctx, in, []byte(c.secret), testActor, testOrigin)
		if fe := FieldErrors(err); fe[c.field] == "" {
			t.Errorf("%s: got %v, want a field error on %q", c.name, err, c.field)
		}
	}
	if n := b.queryInt(t, `SELECT count(*) FROM projects`); n != 1 {
		t.Fatalf("projects after bad input: got %d, want 1", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events`); n != 1 {
		t.Fatalf("audit events after bad input: got %d, want 1", n)
	}
}

func TestCreateProject_FailingAuditInsertLeavesNoProject(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.failAuditInserts(t, "project.create")
	_, err := b.st.CreateProject(b.ctx, ProjectInput{Name: "x", AppID: 9, Environment: "test", DefaultTTL: time.Hour, MaxTTL: time.Hour},
		[]byte(testSecret), testActor, testOrigin)
	if err == nil || !strings.Contains(err.Error(), "audit insert failed") {
		t.Fatalf("got %v, want the audit failure", err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM projects`) + b.queryInt(t, `SELECT count(*) FROM project_secrets`); n != 0 {
		t.Fatalf("rows left after a failed audit insert: got %d, want 0", n)
	}
}

func TestRotateSecret_KeepsOldVersionsReadable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 77)
	v, err := b.st.RotateSecret(b.ctx, 77, []byte("ZYXWVUTSRQPONMLKJIHGFEDCBA987654"), testActor, testOrigin)
	if err != nil || v != 2 {
		t.Fatalf("rotate: got v%d, %v; want v2", v, err)
	}
	vs, err := b.st.SecretVersions(b.ctx, 77)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !vs[0].Active || vs[0].Version != 2 || vs[0].Hint != "7654" || vs[1].Active || vs[1].Hint != "cdef" {
		t.Fatalf("got %+v, want v2 active (…7654) then v1 retired (…cdef)", vs)
	}
	if vs[0].Masked() != "••••…7654" {
		t.Fatalf("masked: got %q", vs[0].Masked())
	}
}

func TestSecrets_AreNotStoredInPlaintext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 5)
	if n := b.queryInt(t, `SELECT count(*) FROM project_secrets WHERE position($1::bytea in ciphertext) > 0`, []byte(testSecret)); n != 0 {
		t.Fatalf("plaintext secret found in %d ciphertexts", n)
	}
	// The whole database, as pg_dump sees it.
	dump, err := exec.Command(pgDump(t), "--dbname", b.db.OwnerURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, dump)
	}
	if strings.Contains(string(dump), testSecret) || !strings.Contains(string(dump), "project_secrets") {
		t.Fatal("pg_dump holds the plaintext secret (or is not a dump of the schema)")
	}
}

func TestSecrets_CannotBeSwappedBetweenRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 5)
	b.createProject(t, 6)
	if _, err := b.st.Pool().Exec(b.ctx, `UPDATE project_secrets SET ciphertext = (SELECT ciphertext FROM project_secrets s
		JOIN projects p ON p.id = s.project_id WHERE p.app_id = 6) WHERE project_id = (SELECT id FROM projects WHERE app_id = 5)`); err != nil {
		t.Fatal(err)
	}
	_, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 5, UserID: "u", Channel: ChannelUI, Actor: testActor})
	if err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("got %v, want the swapped ciphertext refused", err)
	}
}

func TestRekey_MovesSecretsToTheNewMasterKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 5)
	n, err := b.rekeyed(t).Rekey(b.ctx, Actor{Type: ActorCLI, Name: "cli"}, Origin{})
	if err != nil || n != 1 {
		t.Fatalf("rekey: got %d, %v; want 1", n, err)
	}
	st3 := b.newKeyOnly(t)
	if _, err := st3.SecretVersions(b.ctx, 5); err != nil {
		t.Fatalf("after rekey, the new key alone must open every secret: %v", err)
	}
	if _, err := b.st.SecretVersions(b.ctx, 5); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("old key after rekey: got %v, want ErrNoMasterKey", err)
	}
}
