package ui_test

import (
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestAuditVerify_AStormOfRequestsRunsOneVerificationAndTokensStillIssue(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	key := e.APIKey(t, []string{store.ScopeIssue}, 1001)
	e.IssueFor(t, 1001, "before")
	e.SealAudit(t)
	aud := e.SignIn(t, "audrey", store.RoleAuditor)

	// No verification can finish while the checkpoints are held.
	lock := e.HoldLock(t, "audit_checkpoints")
	const storm = 24 // more than the pool's 16 connections
	statuses, written := make(chan int, storm), make(chan struct{}, storm)
	for range storm {
		go func() {
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { written <- struct{}{} }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodPost,
				e.URL+"/audit/verify", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := aud.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	for range storm {
		<-written
	}
	lock.WaitFor(t, "", "a verification waits for the held checkpoints")

	// While they wait, a service still gets its token.
	issued := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/api/v1/projects/1001/tokens",
			strings.NewReader(`{"user_id":"during-the-storm"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			issued <- 0
			return
		}
		res.Body.Close()
		issued <- res.StatusCode
	}()
	select {
	case status := <-issued:
		if status != http.StatusCreated {
			t.Fatalf("issue during the verify storm: got %d, want 201", status)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("issuing a token did not complete while %d verifications waited: they hold the connection pool", storm)
	}

	lock.Release()
	for range storm {
		if status := <-statuses; status != http.StatusSeeOther {
			t.Errorf("POST /audit/verify: got %d, want 303", status)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_verifications`); n != 1 {
		t.Errorf("verification runs: got %d, want 1 shared by the %d requests", n, storm)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'audit.verify' AND details->>'ok' = 'true'`); n != storm {
		t.Errorf("audit.verify events: got %d, want one per request (%d)", n, storm)
	}
}
