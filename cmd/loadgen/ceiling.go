package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zegocloud-console/console/internal/store"
)

// ceilingOptions configure a run of the issue path's SQL alone.
type ceilingOptions struct {
	DatabaseURL string
	AppID       uint32
	Prefix      string
	APIKey      string // when set, each operation also authenticates it, as the API does per request
}

// runCeiling executes, at the same fixed concurrency, exactly the database
// work of one API issue (store.InsertIssueRowsForBenchmark: the project and
// secret SELECT, then the record+audit INSERT … CTE) straight through pgx,
// with no HTTP, JSON or token crypto: the most the database lets the issue
// path do on this machine. The pool holds one connection per worker.
func runCeiling(ctx context.Context, o ceilingOptions, opts loadOptions) (Result, error) {
	cfg, err := pgxpool.ParseConfig(o.DatabaseURL)
	if err != nil {
		return Result{}, fmt.Errorf("ceiling: %w", err)
	}
	if cfg.MaxConns < int32(opts.Concurrency) {
		cfg.MaxConns = int32(opts.Concurrency)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return Result{}, fmt.Errorf("ceiling: %w", err)
	}
	defer pool.Close()
	st := store.New(pool, nil)
	if _, err := st.ProjectByAppID(ctx, o.AppID); err != nil {
		return Result{}, fmt.Errorf("ceiling: %w", err)
	}
	actor := store.Actor{Type: store.ActorAPIKey, ID: "zc_ceiling", Name: "loadgen-ceiling"}
	mode := "ceiling"
	if o.APIKey != "" {
		mode = "ceiling+auth"
		k, err := st.AuthenticateAPIKey(ctx, o.APIKey)
		if err != nil {
			return Result{}, fmt.Errorf("ceiling: %w", err)
		}
		actor = store.Actor{Type: store.ActorAPIKey, ID: k.Prefix, Name: k.Name}
	}
	rec := newRecorder(opts.Concurrency)
	elapsed := runWorkers(ctx, opts, rec, func(ctx context.Context, _ int, n int64) (bool, string) {
		if o.APIKey != "" {
			if _, err := st.AuthenticateAPIKey(ctx, o.APIKey); err != nil {
				return false, dbErrorClass(err)
			}
		}
		origin := store.Origin{RequestID: "ceiling-" + strconv.FormatInt(n, 10), ClientIP: "127.0.0.1", UserAgent: "loadgen"}
		if err := st.InsertIssueRowsForBenchmark(ctx, o.AppID, o.Prefix+strconv.FormatInt(n, 10), actor, origin); err != nil {
			return false, dbErrorClass(err)
		}
		return true, "ok"
	})
	res := rec.summarise(mode, opts.Concurrency, elapsed)
	return res, nil
}

// dbErrorClass names a database error by its SQLSTATE, or its kind.
func dbErrorClass(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "sqlstate " + pgErr.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "db: timeout"
	}
	return "db: " + errorClass(err)
}
