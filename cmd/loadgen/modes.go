package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// runLoadMode drives the issue API (or, with --ceiling, its SQL) and checks
// the database afterwards.
func runLoadMode(ctx context.Context, f *flags, stdout io.Writer) error {
	opts := loadOptions{Concurrency: f.concurrency, Duration: f.duration, Count: f.requests, Timeout: f.timeout}
	pids, err := parsePIDs(f.pids)
	if err != nil {
		return err
	}
	prefix := newRunPrefix()
	var res Result
	if f.ceiling {
		if err := requireDB(f, "--ceiling"); err != nil {
			return err
		}
		o := ceilingOptions{DatabaseURL: f.dbURL, AppID: uint32(f.appID), Prefix: prefix}
		if f.ceilingAuth {
			if f.key == "" {
				return errors.New("--ceiling-auth needs --key")
			}
			o.APIKey = f.key
		}
		if res, err = runCeiling(ctx, o, opts); err != nil {
			return err
		}
	} else {
		targets, err := parseTargets(f.urls)
		if err != nil {
			return err
		}
		if f.key == "" {
			return errors.New("the issue run needs an API key with the issue scope: --key or $LOADGEN_API_KEY (loadgen --setup makes one)")
		}
		is := &issuer{client: newHTTPClient(f.concurrency, len(targets), f.timeout), targets: targets,
			appID: uint32(f.appID), key: f.key, prefix: prefix}
		sampler := startRSSSampler(pids)
		rec := newRecorder(f.concurrency)
		mode, op := "issue", operation(is.issue)
		if f.batch > 0 {
			mode, op = "batch", is.issueBatch(f.batch)
		}
		elapsed := runWorkers(ctx, opts, rec, op)
		res = rec.summarise(mode, f.concurrency, elapsed)
		res.Targets, res.RSS = targets, sampler.finish()
	}
	res.TokensPerRequest = max(f.batch, 1)
	res.TokensPerSecond = res.PerSecond * float64(res.TokensPerRequest)
	if f.dbURL != "" {
		if res.Check, err = checkRows(ctx, f.dbURL, prefix, res.OK*res.TokensPerRequest); err != nil {
			return err
		}
	}
	if err := emit(stdout, f.asJSON, res, res.writeText); err != nil {
		return err
	}
	if f.strict && (res.Errors > 0 || (res.Check != nil && !res.Check.OK)) {
		return fmt.Errorf("%d requests failed; database check ok: %v", res.Errors, res.Check == nil || res.Check.OK)
	}
	return nil
}

func runSetupMode(ctx context.Context, f *flags, stdout io.Writer) error {
	if err := requireDB(f, "--setup"); err != nil {
		return err
	}
	if f.masterKey == "" {
		return errors.New("--setup needs the console's master key: set CONSOLE_MASTER_KEY or --master-key")
	}
	ids := strconv.FormatUint(uint64(f.appID), 10)
	if f.appIDs != "" {
		ids = f.appIDs
	}
	appIDs, err := parseAppIDs(ids)
	if err != nil {
		return err
	}
	key, err := runSetup(ctx, setupOptions{DatabaseURL: f.dbURL, MasterKey: f.masterKey, AppIDs: appIDs,
		Scopes: splitList(f.scopes), Name: f.name})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}

func runAuditMode(ctx context.Context, f *flags, stdout, stderr io.Writer) error {
	targets, err := parseTargets(f.urls)
	if err != nil {
		return err
	}
	if f.key == "" {
		return errors.New("--audit needs an API key with the audit:read scope (--key)")
	}
	o := auditOptions{Base: targets[0], Key: f.key, DatabaseURL: f.dbURL, AppID: uint32(f.appID),
		Action: f.auditAction, Actor: f.auditActor, Text: f.auditText,
		Requests: max(f.auditRequests, 1), Deep: max(f.auditDeep, 1), Budget: f.auditBudget}
	progress := stderr
	if !f.asJSON {
		progress = stdout
	}
	start := time.Now()
	stats, err := runAuditPages(ctx, o, progress)
	if err != nil {
		return err
	}
	return emit(stdout, f.asJSON, stats, func(w io.Writer) {
		fmt.Fprintf(w, "%d measurements in %.1f s\n", len(stats), time.Since(start).Seconds())
	})
}

func runExportMode(ctx context.Context, f *flags, stdout io.Writer) error {
	if f.export != "csv" && f.export != "ndjson" {
		return fmt.Errorf("--export %q: want csv or ndjson", f.export)
	}
	targets, err := parseTargets(f.urls)
	if err != nil {
		return err
	}
	pids, err := parsePIDs(f.pids)
	if err != nil {
		return err
	}
	r, err := runExport(ctx, targets[0], f.key, uint32(f.appID), f.export, pids)
	if err != nil {
		return err
	}
	return emit(stdout, f.asJSON, r, r.writeText)
}
