package store

import (
	"context"
	"errors"
	"testing"
)

// issueRaceChanges are what an admin may do to a project while a token is
// being made for it, and the error the issue must then fail with.
var issueRaceChanges = []struct {
	name   string
	change func(ctx context.Context, st *Store) error
	want   error
}{
	{"disabled", func(ctx context.Context, st *Store) error {
		return st.SetProjectDisabled(ctx, 1001, true, testActor, testOrigin)
	}, ErrProjectDisabled},
	{"secret rotated", func(ctx context.Context, st *Store) error {
		_, err := st.RotateSecret(ctx, 1001, []byte("fedcba9876543210fedcba9876543210"), testActor, testOrigin)
		return err
	}, ErrSecretRotated},
	{"deleted", func(ctx context.Context, st *Store) error {
		return st.DeleteProject(ctx, 1001, testActor, testOrigin)
	}, ErrProjectDeleted},
}

// wantNothingIssued stops the test unless no token record and no
// token.issue event exist.
func (b bundle) wantNothingIssued(t *testing.T) {
	t.Helper()
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("token records: got %d, want 0", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != 0 {
		t.Fatalf("token.issue events: got %d, want 0", n)
	}
}

// forEachIssueRace runs issue once per change an admin may make to project
// 1001 between the issue's reading and writing it, and checks that issue
// fails as the change requires and issues nothing.
func forEachIssueRace(t *testing.T, issue func(b bundle) error) {
	t.Helper()
	for _, tt := range issueRaceChanges {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.createProject(t, 1001)
			b.st.beforeIssueInsert = func(uint32) {
				if err := tt.change(b.ctx, b.owner); err != nil {
					t.Errorf("project %s: %v", tt.name, err)
				}
			}
			if err := issue(b); !errors.Is(err, tt.want) {
				t.Fatalf("issue while the project is %s: got error %v, want %v", tt.name, err, tt.want)
			}
			b.wantNothingIssued(t)
		})
	}
}

func TestIssueToken_RefusedWhenTheProjectChangesBetweenReadingAndWriting(t *testing.T) {
	t.Parallel()
	forEachIssueRace(t, func(b bundle) error {
		_, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 1001, UserID: "alice", Channel: ChannelAPI, Actor: testActor})
		return err
	})
}

func TestIssueToken_WaitsForAnAdminWhoLockedTheProjectFirstAndIsRefusedAfterTheChange(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		sql  []string // what the admin does once the issue waits, as the store does
		want error
	}{
		{"disable", []string{`UPDATE projects SET disabled = true`}, ErrProjectDisabled},
		{"rotate", []string{`UPDATE project_secrets SET active = false, retired_at = now()`,
			`INSERT INTO project_secrets (project_id, version, key_id, ciphertext, active, created_by)
				SELECT project_id, 2, key_id, ciphertext, true, 'admin' FROM project_secrets WHERE version = 1`,
			`UPDATE projects SET updated_at = now()`}, ErrSecretRotated},
		{"delete", []string{`DELETE FROM project_secrets`, `UPDATE projects SET deleted_at = now(), disabled = true`}, ErrProjectDeleted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.createProject(t, 1001)
			// The admin's transaction locks the project as the store's do,
			// and changes it only once the issue waits for it: the issue must
			// not hold the secret meanwhile, or the admin would wait for it
			// in turn (a deadlock).
			admin, err := b.owner.pool.Begin(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Rollback(context.WithoutCancel(b.ctx)) //nolint:errcheck // no-op after commit
			if _, err := admin.Exec(b.ctx, `SELECT id FROM projects WHERE app_id = 1001 FOR UPDATE`); err != nil {
				t.Fatal(err)
			}
			var issueErr error
			issued := make(chan struct{})
			go func() {
				defer close(issued)
				_, issueErr = b.st.IssueToken(b.ctx, IssueRequest{AppID: 1001, UserID: "alice", Channel: ChannelAPI, Actor: testActor})
			}()
			b.db.AwaitLockWaiter(t, issued)
			for _, q := range tt.sql {
				if _, err := admin.Exec(b.ctx, q); err != nil {
					t.Fatalf("admin: %s: %v", q, err)
				}
			}
			if err := admin.Commit(b.ctx); err != nil {
				t.Fatal(err)
			}
			<-issued
			if !errors.Is(issueErr, tt.want) {
				t.Fatalf("issue that waited for the admin: got error %v, want %v", issueErr, tt.want)
			}
			b.wantNothingIssued(t)
		})
	}
}
