package store

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

// sessionTime moves a session's clock columns, to simulate time passing.
func (e bundle) sessionTime(t *testing.T, raw, set string) {
	t.Helper()
	sum := sha256.Sum256([]byte(raw))
	tag, err := e.st.pool.Exec(e.ctx, `UPDATE web_sessions SET `+set+` WHERE id_hash = $1`, sum[:])
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("update session %s: %v (%d rows)", set, err, tag.RowsAffected())
	}
}

func TestSession_CreateLookupDelete(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	raw, err := e.st.CreateSession(e.ctx, e.admin.ID, time.Hour)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(raw) != 43 {
		t.Fatalf("got id of %d characters, want 43", len(raw))
	}
	if hits := e.rowsContaining(t, raw); len(hits) > 0 {
		t.Fatalf("raw session id found in %v", hits)
	}
	op, err := e.st.LookupSession(e.ctx, raw, 30*time.Minute)
	if err != nil || op.ID != e.admin.ID {
		t.Fatalf("lookup: got %+v, %v, want operator %d", op, err, e.admin.ID)
	}
	other, err := e.st.CreateSession(e.ctx, e.admin.ID, time.Hour)
	if err != nil || other == raw {
		t.Fatalf("second session: got %q, %v, want a new id", other, err)
	}
	if err := e.st.DeleteSession(e.ctx, raw); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.st.LookupSession(e.ctx, raw, 0); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("after delete: got %v, want ErrSessionNotFound", err)
	}
	if _, err := e.st.LookupSession(e.ctx, other, 0); err != nil {
		t.Fatalf("other session after delete: %v", err)
	}
	if err := e.st.DeleteSession(e.ctx, raw); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	if err := e.st.DeleteOperatorSessions(e.ctx, e.admin.ID); err != nil {
		t.Fatalf("delete operator sessions: %v", err)
	}
	if _, err := e.st.LookupSession(e.ctx, other, 0); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("after delete operator sessions: got %v, want ErrSessionNotFound", err)
	}
}

func TestSession_CreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	if _, err := e.st.CreateSession(e.ctx, e.admin.ID, 0); err == nil {
		t.Fatal("zero max age: got nil error")
	}
	if _, err := e.st.CreateSession(e.ctx, 999, time.Hour); !errors.Is(err, ErrOperatorNotFound) {
		t.Fatalf("unknown operator: got %v, want ErrOperatorNotFound", err)
	}
}

func TestSession_Expiry(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	tests := []struct {
		name  string
		set   string
		idle  time.Duration
		alive bool
	}{
		{"fresh", `last_seen_at = now()`, time.Hour, true},
		{"idle within limit", `last_seen_at = now() - interval '50 minutes'`, time.Hour, true},
		{"idle too long", `last_seen_at = now() - interval '61 minutes'`, time.Hour, false},
		{"idle but no idle limit", `last_seen_at = now() - interval '5 hours'`, 0, true},
		{"past absolute expiry", `expires_at = now() - interval '1 second'`, time.Hour, false},
		{"absolute expiry wins over activity", `expires_at = now(), last_seen_at = now()`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := e.st.CreateSession(e.ctx, e.admin.ID, 8*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			e.sessionTime(t, raw, tt.set)
			_, err = e.st.LookupSession(e.ctx, raw, tt.idle)
			if alive := err == nil; alive != tt.alive {
				t.Fatalf("got alive %v (%v), want %v", alive, err, tt.alive)
			}
			if !tt.alive && !errors.Is(err, ErrSessionNotFound) {
				t.Fatalf("got %v, want ErrSessionNotFound", err)
			}
		})
	}
	n, err := e.st.PurgeExpiredSessions(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("purge: got %d, %v, want 2, nil", n, err)
	}
}

func TestSession_TouchesLastSeenAtMostEvery30Seconds(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	raw, err := e.st.CreateSession(e.ctx, e.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(raw))
	age := func() time.Duration {
		var secs float64
		err := e.st.pool.QueryRow(e.ctx, `SELECT extract(epoch FROM now() - last_seen_at)::float8
			FROM web_sessions WHERE id_hash = $1`, sum[:]).Scan(&secs)
		if err != nil {
			t.Fatal(err)
		}
		return time.Duration(secs * float64(time.Second))
	}
	e.sessionTime(t, raw, `last_seen_at = now() - interval '10 seconds'`)
	if _, err := e.st.LookupSession(e.ctx, raw, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := age(); got < 9*time.Second {
		t.Fatalf("got last seen %v ago, want about 10s (no write within 30s)", got)
	}
	e.sessionTime(t, raw, `last_seen_at = now() - interval '45 seconds'`)
	if _, err := e.st.LookupSession(e.ctx, raw, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := age(); got > 5*time.Second {
		t.Fatalf("got last seen %v ago, want just now", got)
	}
}

func TestSession_DisabledOperator(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	raw, err := e.st.CreateSession(e.ctx, e.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Straight in the table: SetOperatorDisabled would delete the session too.
	if _, err := e.st.pool.Exec(e.ctx, `UPDATE operators SET disabled = true WHERE id = $1`, e.admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.LookupSession(e.ctx, raw, time.Hour); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("got %v, want ErrSessionNotFound", err)
	}
}

func TestSession_MalformedIDsAreNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	raw, err := e.st.CreateSession(e.ctx, e.admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "x", raw[:42], raw + "A", strings.Repeat("!", 43), "\x00" + raw[1:],
		strings.ToUpper(raw[:1]) + raw[1:] + "="} {
		if _, err := e.st.LookupSession(e.ctx, id, time.Hour); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("LookupSession(%q): got %v, want ErrSessionNotFound", id, err)
		}
	}
}
