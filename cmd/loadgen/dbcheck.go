package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Check compares what the database holds after a run with what the run
// counted: every 201 must have left exactly one token record and one
// token.issue audit event, and nothing else may have left one.
type Check struct {
	Prefix      string `json:"prefix"`
	Records     int64  `json:"records"`
	AuditEvents int64  `json:"audit_events"`
	OK          bool   `json:"ok"`
}

// newRunPrefix makes the user_id prefix of one run: "lg-" and 8 random hex
// digits, so that a run's rows can be told from every other run's.
func newRunPrefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "lg-" + hex.EncodeToString(b) + "-"
}

// checkRows counts the token records and token.issue events whose user_id
// starts with prefix and compares both with successes.
func checkRows(ctx context.Context, databaseURL, prefix string, successes int) (*Check, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("check: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	c := &Check{Prefix: prefix}
	like := escapeLike(prefix) + "%"
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM issued_tokens WHERE user_id LIKE $1`, like).Scan(&c.Records); err != nil {
		return nil, fmt.Errorf("check: count token records: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit_events
		WHERE action = 'token.issue' AND outcome = 'success' AND details->>'user_id' LIKE $1`, like).Scan(&c.AuditEvents); err != nil {
		return nil, fmt.Errorf("check: count audit events: %w", err)
	}
	c.OK = c.Records == int64(successes) && c.AuditEvents == int64(successes)
	return c, nil
}

// escapeLike makes s match itself in LIKE.
func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] == '%' || s[i] == '_' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
