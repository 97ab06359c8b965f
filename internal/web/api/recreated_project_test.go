package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// auditEventJSON is what these tests read of an event of the API.
type auditEventJSON struct {
	ID       int64  `json:"id"`
	Action   string `json:"action"`
	TargetID string `json:"target_id"`
}

func TestAPI_ARecreatedAppIDStartsWithAnEmptyHistory(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	ctx := t.Context()
	a.CreateProject(t, 1001)
	oldKey := a.key(t, allAPIScopes, 1001)
	old := a.issue(t, oldKey, "1001", map[string]any{"user_id": "alice", "room_id": "old-room"})
	oldByValue := a.issue(t, oldKey, "1001", map[string]any{"user_id": "bob"})
	oldOfUser := a.issue(t, oldKey, "1001", map[string]any{"user_id": "carol"})
	oldIDs := map[string]bool{old.ID: true, oldByValue.ID: true, oldOfUser.ID: true}
	if err := a.Store.DeleteProject(ctx, 1001, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	a.CreateProject(t, 1001) // the same AppID and, here, the same ServerSecret
	key := a.key(t, allAPIScopes, 1001)
	oldRecordUntouched := func(t *testing.T, id string) {
		t.Helper()
		if n := a.Count(t, `SELECT count(*) FROM issued_tokens WHERE id = $1 AND revoked_at IS NULL`, id); n != 1 {
			t.Fatalf("the deleted project's record %s was revoked (unrevoked records with its id: got %d, want 1)", id, n)
		}
	}

	t.Run("its token record is not found", func(t *testing.T) {
		a.get(t, "/api/v1/projects/1001/tokens/"+old.ID, key).wantProblem(t, http.StatusNotFound, "not-found")
	})
	t.Run("introspection does not link its token to the record", func(t *testing.T) {
		in := a.introspect(t, key, old.Token)
		if in.IssuedHere || in.TokenID != "" || in.Revoked {
			t.Fatalf("got issued_here=%v token_id=%q revoked=%v, want a token not issued by the new project", in.IssuedHere, in.TokenID, in.Revoked)
		}
	})
	t.Run("revoking its token by id finds nothing", func(t *testing.T) {
		a.post(t, "/api/v1/projects/1001/tokens/"+old.ID+"/revoke", key, map[string]string{}).wantProblem(t, http.StatusNotFound, "not-found")
		oldRecordUntouched(t, old.ID)
	})
	t.Run("revoking its token by value finds nothing", func(t *testing.T) {
		res := a.post(t, "/api/v1/tokens/revoke", key, map[string]string{"token": oldByValue.Token})
		var got struct{ Revoked bool }
		res.decode(t, &got)
		if res.status != http.StatusOK || got.Revoked {
			t.Fatalf("got %d %s, want 200 and revoked false", res.status, res.body)
		}
		oldRecordUntouched(t, oldByValue.ID)
	})
	t.Run("revoking its user's tokens revokes none", func(t *testing.T) {
		res := a.post(t, "/api/v1/projects/1001/users/carol/revoke", key, map[string]string{})
		var got struct{ Revoked int64 }
		res.decode(t, &got)
		if res.status != http.StatusOK || got.Revoked != 0 {
			t.Fatalf("got %d %s, want 200 and revoked 0", res.status, res.body)
		}
		oldRecordUntouched(t, oldOfUser.ID)
	})
	oldProjectsEvent := func(e auditEventJSON) bool {
		return oldIDs[e.TargetID] || e.Action == "project.delete"
	}
	t.Run("its audit events are not listed", func(t *testing.T) {
		res := a.get(t, "/api/v1/audit?limit=500", key)
		var page struct{ Events []auditEventJSON }
		res.decode(t, &page)
		creates := 0
		for _, e := range page.Events {
			if oldProjectsEvent(e) {
				t.Errorf("the new project's key reads the deleted project's event %+v", e)
			}
			if e.Action == "project.create" {
				creates++
			}
		}
		if res.status != http.StatusOK || creates != 1 {
			t.Fatalf("got %d with %d project.create events, want 200 and only the new project's", res.status, creates)
		}
	})
	t.Run("its audit events are not exported", func(t *testing.T) {
		res := a.get(t, "/api/v1/audit/export", key)
		if res.status != http.StatusOK {
			t.Fatalf("export: got %d (%s), want 200", res.status, res.body)
		}
		lines := 0
		for sc := bufio.NewScanner(bytes.NewReader(res.body)); sc.Scan(); lines++ {
			var e auditEventJSON
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if oldProjectsEvent(e) {
				t.Errorf("the new project's key exports the deleted project's event %+v", e)
			}
		}
		if lines == 0 {
			t.Fatal("export: got no events, want the new project's")
		}
	})
	t.Run("an admin still finds them, marked as a deleted project's", func(t *testing.T) {
		issued := a.events(t, "token.issue")
		if len(issued) != 3 || issued[0].TargetID != old.ID {
			t.Fatalf("token.issue events: got %+v, want the old token's", issued)
		}
		admin := a.SignIn(t, "ada", store.RoleAdmin)
		status, body := a.Get(t, admin, "/audit?app_id=1001&action=token.issue")
		row := `data-testid="audit-row-` + strconv.FormatInt(issued[0].ID, 10) + `"`
		if status != http.StatusOK || !strings.Contains(body, row) || !strings.Contains(body, `data-testid="audit-deleted-project"`) {
			t.Fatalf("GET /audit?app_id=1001: got %d, want 200 with the old token.issue event (%s) marked as a deleted project's:\n%s", status, row, body)
		}
	})
}
