package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/zegocloud-console/console/client"
)

// A backend service issues a token for a user, checks it, and revokes it.
// consoleURL is the console's address and apiKey an API key of the service.
func Example() {
	ctx := context.Background()
	c := client.New(consoleURL, apiKey)

	tok, err := c.Issue(ctx, 1234567890, client.IssueRequest{UserID: "alice", TTL: time.Hour,
		RoomID: "room-1", Privileges: []string{"login", "publish"}})
	if err != nil {
		fmt.Println("issue:", err)
		return
	}
	fmt.Println("issued for", tok.UserID, "in", *tok.RoomID, "with", tok.Privileges)

	in, _ := c.Introspect(ctx, tok.Token)
	fmt.Println("active:", in.Active)

	rec, _ := c.RevokeToken(ctx, 1234567890, tok.ID, "user logged out")
	fmt.Println("revoked:", rec.Revoked, "because", rec.Reason)

	in, _ = c.Introspect(ctx, tok.Token)
	fmt.Println("active:", in.Active, "reason:", in.Reason)
	// Output:
	// issued for alice in room-1 with [login publish]
	// active: true
	// revoked: true because user logged out
	// active: false reason: revoked
}

// The console's problems come back as *client.Error, with the fields of the
// problem; a 429 or 503 is retried first, honouring Retry-After.
func ExampleError() {
	ctx := context.Background()
	c := client.New(consoleURL, apiKey)

	_, err := c.Issue(ctx, 1234567890, client.IssueRequest{UserID: "bob", TTL: 48 * time.Hour})
	if e, ok := err.(*client.Error); ok {
		fmt.Println(e.Status, e.Kind(), "ttl_seconds:", e.Errors["ttl_seconds"])
	}

	_, err = c.Token(ctx, 1234567890, "00000000-0000-4000-8000-000000000000")
	fmt.Println("unknown token:", client.IsKind(err, client.KindNotFound))

	_, err = client.New(consoleURL, "zc_notakey_0000").Projects(ctx)
	fmt.Println("bad key:", client.IsKind(err, client.KindUnauthorized))
	// Output:
	// 422 validation ttl_seconds: must not exceed the project's maximum of 86400 seconds
	// unknown token: true
	// bad key: true
}

// Revoking every token of a user, and reading the audit trail's record of it.
func ExampleClient_Audit() {
	ctx := context.Background()
	c := client.New(consoleURL, apiKey)
	for range 2 {
		if _, err := c.Issue(ctx, 1234567890, client.IssueRequest{UserID: "carol"}); err != nil {
			fmt.Println("issue:", err)
			return
		}
	}
	res, _ := c.RevokeUser(ctx, 1234567890, "carol", "account closed")
	fmt.Println("revoked", res.Revoked, "tokens of", res.UserID)

	page, err := c.Audit(ctx, client.AuditQuery{Action: "token.revoke_user", Text: "carol"}, "", 10)
	if err != nil {
		fmt.Println("audit:", err)
		return
	}
	for _, e := range page.Events {
		fmt.Println(e.Action, e.TargetType, e.TargetID, e.ActorName)
	}
	// Output:
	// revoked 2 tokens of carol
	// token.revoke_user user carol backend
}

// Streaming what the audit trail holds about one token, found by its
// fingerprint (a token itself never goes into a URL).
func ExampleClient_ExportAudit() {
	ctx := context.Background()
	c := client.New(consoleURL, apiKey)
	tok, err := c.Issue(ctx, 1234567890, client.IssueRequest{UserID: "dan"})
	if err != nil {
		fmt.Println("issue:", err)
		return
	}
	if _, err := c.RevokeTokenValue(ctx, tok.Token, "leaked"); err != nil {
		fmt.Println("revoke:", err)
		return
	}
	err = c.ExportAudit(ctx, client.AuditQuery{Fingerprint: tok.Fingerprint}, func(e client.AuditEvent) error {
		fmt.Println(e.Action, e.Outcome) // newest first
		return nil
	})
	if err != nil {
		fmt.Println("export:", err)
	}
	// Output:
	// token.revoke success
	// token.issue success
}

// A service gates room entry with a RevocationCache: it follows the
// console's revocation feed and answers from memory.
func ExampleRevocationCache() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := client.New(consoleURL, apiKey) // the key needs the revocations:read scope
	revoked := client.NewRevocationCache(c, client.RevocationCacheOptions{MaxStaleness: 2 * time.Minute})
	go revoked.Run(ctx) //nolint:errcheck // returns when ctx ends
	<-revoked.Ready()

	tok, _ := c.Issue(ctx, 1234567890, client.IssueRequest{UserID: "erin", RoomID: "room-2"})
	fmt.Println("let erin in:", !revoked.Revoked(tok.Token))

	_, _ = c.RevokeToken(ctx, 1234567890, tok.ID, "")
	for deadline := time.Now().Add(10 * time.Second); !revoked.Revoked(tok.Token) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the feed brings the revocation within moments
	}
	fmt.Println("let erin in:", !revoked.Revoked(tok.Token))
	fmt.Println("stale:", revoked.Status().Stale)
	// Output:
	// let erin in: true
	// let erin in: false
	// stale: false
}
