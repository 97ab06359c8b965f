package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// setupOptions say what --setup creates.
type setupOptions struct {
	DatabaseURL string
	MasterKey   string // base64, as CONSOLE_MASTER_KEY: the console must be able to open the secrets
	AppIDs      []uint32
	Scopes      []string
	Name        string
}

// runSetup makes sure the projects exist (each with a random ServerSecret,
// sealed under the console's master key) and creates an API key scoped to
// them, returning the raw key. It goes through the store, so it is audited
// like any other change.
func runSetup(ctx context.Context, o setupOptions) (string, error) {
	keys, err := store.ParseMasterKeys(o.MasterKey, "")
	if err != nil {
		return "", fmt.Errorf("setup: CONSOLE_MASTER_KEY: %w", err)
	}
	st, err := store.Open(ctx, o.DatabaseURL, keys)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	actor := store.Actor{Type: store.ActorCLI, Name: "loadgen"}
	for _, appID := range o.AppIDs {
		_, err := st.ProjectByAppID(ctx, appID)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrProjectNotFound) {
			return "", fmt.Errorf("setup: %w", err)
		}
		raw := make([]byte, 16)
		_, _ = rand.Read(raw)
		if _, err := st.CreateProject(ctx, store.ProjectInput{Name: "Load test " + strconv.FormatUint(uint64(appID), 10),
			AppID: appID, Environment: "bench", DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true},
			[]byte(hex.EncodeToString(raw)), actor, store.Origin{}); err != nil {
			return "", fmt.Errorf("setup: %w", err)
		}
	}
	raw, _, err := st.CreateAPIKey(ctx, store.APIKeyInput{Name: o.Name, AppIDs: o.AppIDs, Scopes: o.Scopes}, actor, store.Origin{})
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	return raw, nil
}

// parseAppIDs reads a comma-separated list of AppIDs.
func parseAppIDs(s string) ([]uint32, error) {
	var ids []uint32
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if lo, hi, ok := strings.Cut(part, "-"); ok {
			a, err1 := strconv.ParseUint(lo, 10, 32)
			b, err2 := strconv.ParseUint(hi, 10, 32)
			if err1 != nil || err2 != nil || a == 0 || b < a || b-a > 10000 {
				return nil, fmt.Errorf("app id range %q: want FIRST-LAST such as 900001-900020", part)
			}
			for id := a; id <= b; id++ {
				ids = append(ids, uint32(id))
			}
			continue
		}
		id, err := strconv.ParseUint(part, 10, 32)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("app id %q: want a ZEGO AppID from 1 to 4294967295", part)
		}
		ids = append(ids, uint32(id))
	}
	if len(ids) == 0 {
		return nil, errors.New("no app id given")
	}
	return ids, nil
}

// waitReady polls base/readyz every 2 ms until it answers 200 and returns
// how long after since that was (since is when the console process started).
func waitReady(ctx context.Context, base string, since time.Time, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(since), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("%s/readyz did not answer 200 within %s", base, timeout)
}
