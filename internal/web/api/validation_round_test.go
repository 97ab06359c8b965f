package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

func TestIssueValidation_ReportsEveryInvalidFieldAtOnce(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	for _, tc := range []struct {
		name, body string
		status     int
		slug       string
		fields     []string
	}{
		{"empty user id and zero ttl", `{"user_id":"","ttl_seconds":0}`, 422, "validation", []string{"user_id", "ttl_seconds"}},
		{"bad privilege, bad mode, long room", `{"user_id":"a","privileges":["root"],"mode":"ecb","room_id":"` + strings.Repeat("r", 129) + `"}`,
			422, "validation", []string{"privileges", "mode", "room_id"}},
		{"every field of the wrong type", `{"user_id":123,"ttl_seconds":"60","mode":4,"privileges":"login"}`, 400, "wrong-type",
			[]string{"user_id", "ttl_seconds", "mode", "privileges"}},
		{"null is a wrong type like a number", `{"user_id":null}`, 400, "wrong-type", []string{"user_id"}},
		{"null for an optional field too", `{"user_id":"a","room_id":null}`, 400, "wrong-type", []string{"room_id"}},
		{"two unknown fields", `{"user_id":"a","admin":true,"root":1}`, 400, "unknown-field", []string{"admin", "root"}},
	} {
		res := a.call(t, http.MethodPost, "/api/v1/projects/1001/tokens", key, "application/json", []byte(tc.body))
		if res.status != tc.status {
			t.Errorf("%s: got %d (%s), want %d", tc.name, res.status, res.body, tc.status)
			continue
		}
		p := res.wantProblem(t, tc.status, tc.slug)
		var got []string
		for f := range p.Errors {
			got = append(got, f)
		}
		slices.Sort(got)
		want := slices.Clone(tc.fields)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got errors on %v (%v), want on %v", tc.name, got, p.Errors, want)
		}
	}
}

func TestIssueValidation_AnIntegerMayBeWrittenWithAFractionOrExponent(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	for _, ttl := range []string{"3600", "3600.0", "3.6e3", "36E2"} {
		res := a.call(t, http.MethodPost, "/api/v1/projects/1001/tokens", key, "application/json", []byte(`{"user_id":"a","ttl_seconds":`+ttl+`}`))
		if res.status != http.StatusCreated {
			t.Errorf("ttl_seconds %s: got %d (%s), want 201", ttl, res.status, res.body)
			continue
		}
		var tok issuedToken
		res.decode(t, &tok)
		a.remember(tok.Token)
		if d := tok.ExpiresAt.Sub(tok.IssuedAt); d != time.Hour {
			t.Errorf("ttl_seconds %s: got a lifetime of %v, want 1h", ttl, d)
		}
	}
}
