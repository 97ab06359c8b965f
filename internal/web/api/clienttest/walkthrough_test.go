//go:build apiclients

package clienttest_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api/clienttest/oapiclient"
	"github.com/zegocloud-console/console/internal/web/api/clienttest/ogenclient"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// walkthroughAppID is the project of the README's walk-through.
const walkthroughAppID = 1234567890

// bearer is the ogen client's source of the API key.
type bearer string

func (b bearer) ApiKey(context.Context, ogenclient.OperationName) (ogenclient.ApiKey, error) {
	return ogenclient.ApiKey{Token: string(b)}, nil
}

// want asserts that a generated client's answer to step is the success
// type T: want[T](t, "step")(client.Call(...)).
func want[T any](t *testing.T, step string) func(res any, err error) T {
	return func(res any, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		out, ok := res.(T)
		if !ok {
			t.Fatalf("%s: got %T (%+v), want %T", step, res, res, out)
		}
		return out
	}
}

// walkthroughEnv starts a console with the walk-through's project and a key
// with the walk-through's four scopes.
func walkthroughEnv(t *testing.T) (*webtest.Env, string) {
	t.Helper()
	// A bucket of 100 that does not refill during the test, as RateLimit shows.
	e := webtest.NewEnv(t, func(c *web.Config) { c.APIRate, c.APIBurst = 0.001, 100 })
	e.CreateProject(t, walkthroughAppID)
	return e, e.APIKey(t, []string{store.ScopeIssue, store.ScopeRevoke, store.ScopeIntrospect, store.ScopeAuditRead}, walkthroughAppID)
}

func TestOgenClient_RunsTheREADMEWalkthroughUnmodified(t *testing.T) {
	t.Parallel()
	e, key := walkthroughEnv(t)
	c, err := ogenclient.NewClient(e.URL, bearer(key))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const app = "1234567890"

	projects := want[*ogenclient.ProjectListHeaders](t, "list projects")(c.ListProjects(ctx))
	if len(projects.Response.Projects) != 1 || projects.Response.Projects[0].AppID != walkthroughAppID {
		t.Fatalf("list projects: got %+v, want the one project %d", projects.Response.Projects, walkthroughAppID)
	}

	issued := want[*ogenclient.IssuedTokenHeaders](t, "issue")(c.IssueToken(ctx, &ogenclient.IssueRequest{
		UserID: "alice", TTLSeconds: ogenclient.NewOptInt(3600), RoomID: ogenclient.NewOptString("room-1"),
		Privileges: []ogenclient.Privilege{ogenclient.PrivilegeLogin, ogenclient.PrivilegePublish},
	}, ogenclient.IssueTokenParams{AppId: app}))
	tok := issued.Response
	if !strings.HasPrefix(tok.Token, "04") || tok.UserID != "alice" || issued.Location == "" {
		t.Fatalf("issue: got token %.8q for %q at %q, want a Token04 for alice and its Location", tok.Token, tok.UserID, issued.Location)
	}

	rec := want[*ogenclient.TokenRecordHeaders](t, "get record")(c.GetToken(ctx, ogenclient.GetTokenParams{AppId: app, ID: uuid.UUID(tok.ID)}))
	if rec.Response.State != ogenclient.TokenRecordStateActive || rec.Response.Fingerprint != tok.Fingerprint {
		t.Fatalf("get record: got state %q and fingerprint %s, want active and %s", rec.Response.State, rec.Response.Fingerprint, tok.Fingerprint)
	}

	in := want[*ogenclient.IntrospectionHeaders](t, "introspect")(c.IntrospectToken(ctx, &ogenclient.IntrospectRequest{Token: tok.Token}, ogenclient.IntrospectTokenParams{}))
	if !in.Response.Active || in.Response.Sub.Value != "alice" || in.Response.ClientID.Value != app || in.Response.Scope.Value != "login publish" {
		t.Fatalf("introspect: got active %v for %q, want an active token of alice", in.Response.Active, in.Response.Sub.Value)
	}

	revoked := want[*ogenclient.RevokedTokenHeaders](t, "revoke")(c.RevokeToken(ctx,
		ogenclient.NewOptRevokeRequest(ogenclient.RevokeRequest{Reason: ogenclient.NewOptString("user logged out")}),
		ogenclient.RevokeTokenParams{AppId: app, ID: uuid.UUID(tok.ID)}))
	if !revoked.Response.Revoked || revoked.Response.Reason.Value != "user logged out" {
		t.Fatalf("revoke: got revoked %v with reason %q, want revoked with the reason given", revoked.Response.Revoked, revoked.Response.Reason.Value)
	}

	in = want[*ogenclient.IntrospectionHeaders](t, "introspect again")(c.IntrospectToken(ctx, &ogenclient.IntrospectForm{Token: tok.Token}, ogenclient.IntrospectTokenParams{})) // as an RFC 7662 client sends it
	if in.Response.Active || in.Response.Reason.Value != ogenclient.IntrospectionReasonRevoked {
		t.Fatalf("introspect again: got active %v, reason %q; want inactive, revoked", in.Response.Active, in.Response.Reason.Value)
	}

	page := want[*ogenclient.AuditPageHeaders](t, "audit page")(c.ListAudit(ctx, ogenclient.ListAuditParams{
		Action: ogenclient.NewOptString("token.*"), Limit: ogenclient.NewOptInt(50)}))
	actions := map[string]int{}
	for _, ev := range page.Response.Events {
		actions[ev.Action]++
	}
	if actions["token.issue"] != 1 || actions["token.revoke"] != 1 || actions["token.introspect"] != 2 {
		t.Fatalf("audit page: got actions %v, want one issue, one revoke and two introspections", actions)
	}

	export := want[*ogenclient.ExportAuditOKApplicationXNdjsonHeaders](t, "export")(c.ExportAudit(ctx, ogenclient.ExportAuditParams{
		Action: ogenclient.NewOptString("token.*")}))
	lines := bufio.NewScanner(export.Response)
	n := 0
	for lines.Scan() {
		var ev ogenclient.AuditEvent
		if err := ev.UnmarshalJSON(lines.Bytes()); err != nil {
			t.Fatalf("export line %d does not decode as the document's AuditEvent: %v: %s", n+1, err, lines.Bytes())
		}
		n++
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	// The client reads the RateLimit field of every answer: eight requests taken.
	if first, last := projects.RateLimit, export.RateLimit; !strings.HasPrefix(first, `"api-key";r=99;`) || !strings.HasPrefix(last, `"api-key";r=92;`) {
		t.Fatalf("RateLimit of the first and the last answer: got %q and %q, want r=99 then r=92", first, last)
	}
	if n != len(page.Response.Events) {
		t.Fatalf("export: got %d events, want the %d of the page", n, len(page.Response.Events))
	}
}

func TestOapiCodegenClient_ListsProjectsAndRetriesAnIssueSafelyUnmodified(t *testing.T) {
	t.Parallel()
	e, key := walkthroughEnv(t)
	c, err := oapiclient.NewClientWithResponses(e.URL, oapiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	projects, err := c.ListProjectsWithResponse(ctx)
	if err != nil || projects.JSON200 == nil || len(projects.JSON200.Projects) != 1 {
		t.Fatalf("list projects: got %v, %s; want the one project", err, projects.Body)
	}
	ttl, idem := 3600, "retry-me"
	var tokens []string
	for range 2 { // a retry with the same Idempotency-Key gets the same token
		issued, err := c.IssueTokenWithResponse(ctx, "1234567890", &oapiclient.IssueTokenParams{IdempotencyKey: &idem},
			oapiclient.IssueTokenJSONRequestBody{UserId: "alice", TtlSeconds: &ttl})
		if err != nil || issued.JSON201 == nil || !strings.HasPrefix(issued.JSON201.Token, "04") {
			t.Fatalf("issue: got %v, status %d; want a token", err, issued.StatusCode())
		}
		tokens = append(tokens, issued.JSON201.Token)
	}
	if tokens[0] != tokens[1] {
		t.Fatal("the retry with the same Idempotency-Key got another token")
	}
}
