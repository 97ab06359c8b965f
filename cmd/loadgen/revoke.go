package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// runRevokeMode measures how long a console other than the one that
// revokes a key goes on accepting it: it issues a token with --key through
// the last --url (so that the console has the key in its cache), revokes
// the key through the store, as `console apikey revoke` does, then issues
// through that console every 2 ms until it refuses the key, and reports the
// time from the revocation's commit to the first refusal.
func runRevokeMode(ctx context.Context, f *flags, stdout io.Writer) error {
	if err := requireDB(f, "--revoke-check"); err != nil {
		return err
	}
	targets, err := parseTargets(f.urls)
	if err != nil {
		return err
	}
	if len(f.key) < len("zc_12345678") {
		return errors.New("--revoke-check needs --key, an API key with the issue scope (loadgen --setup makes one)")
	}
	is := &issuer{client: newHTTPClient(1, 1, f.timeout), targets: targets[len(targets)-1:], appID: uint32(f.appID),
		key: f.key, prefix: newRunPrefix()}
	if ok, outcome := is.issue(ctx, 0, 0); !ok {
		return fmt.Errorf("revoke check: the key is refused before its revocation: %s", outcome)
	}
	keys, err := store.ParseMasterKeys(f.masterKey, "")
	if err != nil {
		return fmt.Errorf("revoke check: CONSOLE_MASTER_KEY: %w", err)
	}
	st, err := store.Open(ctx, f.dbURL, keys)
	if err != nil {
		return fmt.Errorf("revoke check: %w", err)
	}
	defer st.Close()
	if _, err := st.RevokeAPIKey(ctx, f.key[:len("zc_12345678")], store.Actor{Type: store.ActorCLI, Name: "loadgen"}, store.Origin{}); err != nil {
		return fmt.Errorf("revoke check: %w", err)
	}
	revoked := time.Now()
	for n := int64(1); ; n++ {
		ok, outcome := is.issue(ctx, 0, n)
		refusedAfter := time.Since(revoked)
		if !ok && (outcome == "401" || outcome == "403") {
			return emit(stdout, f.asJSON, map[string]any{"refused_after_ms": ms(refusedAfter), "accepted_after_revoke": n - 1},
				func(w io.Writer) {
					fmt.Fprintf(w, "refused %.1f ms after the revocation committed (%d requests accepted meanwhile)\n", ms(refusedAfter), n-1)
				})
		}
		if !ok {
			return fmt.Errorf("revoke check: request %d after the revocation: %s", n, outcome)
		}
		if refusedAfter > 10*time.Second {
			return errors.New("revoke check: the key is still accepted 10 s after its revocation")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
