package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api"
	"github.com/zegocloud-console/console/internal/web/ui"
)

// The console the examples talk to: a real one, started by TestMain on a
// database of its own, with project exampleAppID and an API key with every
// scope on it.
var (
	consoleURL string
	apiKey     string
)

const exampleAppID = 1234567890

func TestMain(m *testing.M) {
	stop, err := startExampleConsole()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client tests: start the examples' console:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startExampleConsole starts a console on a fresh database of the test
// server (migrated, served as the superuser: the examples' own); stop
// removes both.
func startExampleConsole() (stop func(), err error) {
	ctx := context.Background()
	su, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		return nil, err
	}
	defer su.Close(ctx)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "client_examples_" + hex.EncodeToString(suffix)
	if _, err := su.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return nil, err
	}
	drop := func() {
		conn, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err == nil {
			_, _ = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			conn.Close(ctx)
		}
	}
	u, _ := url.Parse(pgtest.ServerURL())
	u.Path = "/" + name
	keys, _ := store.NewKeyring(bytes.Repeat([]byte{5}, 32))
	st, err := store.Open(ctx, u.String(), keys)
	if err != nil {
		drop()
		return nil, err
	}
	fail := func(err error) (func(), error) {
		st.Close()
		drop()
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	srv, err := web.New(ctx, st, slog.New(slog.NewJSONHandler(io.Discard, nil)), web.Config{APIRate: 1000, APIBurst: 1000},
		prometheus.NewRegistry(), ui.New, api.New)
	if err != nil {
		return fail(err)
	}
	admin := store.Actor{Type: store.ActorSystem, Name: "examples"}
	if _, err := st.CreateProject(ctx, store.ProjectInput{Name: "Live classes", AppID: exampleAppID, Environment: "prod",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true}, []byte("0123456789abcdef0123456789abcdef"), admin, store.Origin{}); err != nil {
		return fail(err)
	}
	if apiKey, _, err = st.CreateAPIKey(ctx, store.APIKeyInput{Name: "backend", AppIDs: []uint32{exampleAppID},
		Scopes: []string{store.ScopeIssue, store.ScopeRevoke, store.ScopeIntrospect, store.ScopeAuditRead, store.ScopeRevocationsRead}},
		admin, store.Origin{}); err != nil {
		return fail(err)
	}
	hs := httptest.NewServer(srv.Handler())
	consoleURL = hs.URL
	return func() {
		srv.Drain()
		hs.Close()
		st.Close()
		drop()
	}, nil
}
