package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/store"
)

func TestAPIIssue_WaitsForAnAdminChangingTheProjectAndIssuesNothingAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		sql  []string // what the admin's transaction does after locking the project, as the store does
		slug string
	}{
		{"disable", []string{`UPDATE projects SET disabled = true WHERE app_id = 1001 AND deleted_at IS NULL`}, "project-disabled"},
		{"rotate the secret", []string{
			`UPDATE project_secrets SET active = false, retired_at = now() WHERE active`,
			`INSERT INTO project_secrets (project_id, version, key_id, ciphertext, active, created_by)
				SELECT project_id, 2, key_id, ciphertext, true, 'admin' FROM project_secrets WHERE version = 1`,
		}, "secret-rotated"},
		{"delete", []string{
			`DELETE FROM project_secrets`,
			`UPDATE projects SET deleted_at = now(), disabled = true WHERE app_id = 1001`,
		}, "project-deleted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPIEnv(t)
			a.CreateProject(t, 1001)
			key := a.key(t, []string{store.ScopeIssue}, 1001)
			ctx := t.Context()
			conn, err := pgx.Connect(ctx, a.DB.OwnerURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.WithoutCancel(ctx))
			admin, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
			for _, q := range append([]string{`SELECT id FROM projects WHERE app_id = 1001 AND deleted_at IS NULL FOR UPDATE`}, tt.sql...) {
				if _, err := admin.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			// The issue reads the project as it was committed, makes the token,
			// then must wait for the admin's transaction before it writes.
			var res apiResponse
			answered := make(chan struct{})
			go func() {
				defer close(answered)
				res = a.post(t, "/api/v1/projects/1001/tokens", key, map[string]any{"user_id": "alice"})
			}()
			a.DB.AwaitLockWaiter(t, answered)
			if err := admin.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			<-answered
			res.wantProblem(t, http.StatusConflict, tt.slug)
			if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
				t.Fatalf("got %d token records, want none", n)
			}
			if n := a.Events(t, "token.issue", store.OutcomeSuccess); n != 0 {
				t.Fatalf("got %d token.issue events, want none", n)
			}
		})
	}
}
