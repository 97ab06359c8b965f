package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrSinkNotFound means no audit sink has the id.
var ErrSinkNotFound = errors.New("audit sink not found")

// Kinds of audit sink.
const (
	SinkWebhook = "webhook"
	SinkSyslog  = "syslog"
	SinkFile    = "file"
)

// States of an audit sink: only an active one is delivered to. A sink is
// disabled by a 410 Gone from its webhook or when its retries run out; an
// admin resumes it.
const (
	SinkActive   = "active"
	SinkPaused   = "paused"
	SinkDisabled = "disabled"
)

// Webhook body formats: a batch of events as NDJSON, or one JSON event per
// request.
const (
	SinkFormatNDJSON = "ndjson"
	SinkFormatJSON   = "json"
)

// webhookSecretPrefix opens a Standard Webhooks signing secret.
const webhookSecretPrefix = "whsec_"

// sinkSecretOverlap is how long the previous webhook secret still signs
// after a rotation, so that receivers can switch without losing a request.
const sinkSecretOverlap = 24 * time.Hour

// SinkConfig holds a sink's settings that are not secret; which fields
// apply depends on its kind.
type SinkConfig struct {
	URL          string   `json:"url,omitempty"`           // webhook: http(s) URL
	Format       string   `json:"format,omitempty"`        // webhook: ndjson (batches) or json (one event per request)
	HeaderNames  []string `json:"header_names,omitempty"`  // webhook: names of the custom headers (values are secret)
	AllowPrivate bool     `json:"allow_private,omitempty"` // webhook, syslog: allow loopback and private addresses
	Address      string   `json:"address,omitempty"`       // syslog: host:port of a TLS receiver
	ServerName   string   `json:"server_name,omitempty"`   // syslog: name in the receiver's certificate, when not the host
	CAPEM        string   `json:"ca_pem,omitempty"`        // syslog: CA certificates to trust instead of the system's
	ClientCert   string   `json:"client_cert_pem,omitempty"`
	Facility     int      `json:"facility,omitempty"`    // syslog: 0–23 (13, log audit, by default)
	MaxMessage   int      `json:"max_message,omitempty"` // syslog: the receiver's largest message in bytes
	Path         string   `json:"path,omitempty"`        // file: a file name in the sink directory
	MaxBytes     int64    `json:"max_bytes,omitempty"`   // file: rotate past this size
}

// SinkFilter selects the events a sink carries; empty lists select all.
// Anchors (audit.anchor) pass every filter: they vouch for the whole chain.
type SinkFilter struct {
	AppIDs   []int64  `json:"app_ids"`
	Actions  []string `json:"actions"`  // exact, or a prefix such as token.*
	Outcomes []string `json:"outcomes"` // success, denied, error
}

// Sink is an audit sink as stored, never with its secrets.
type Sink struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	Kind            string     `json:"kind"`
	Config          SinkConfig `json:"config"`
	Filter          SinkFilter `json:"filter"`
	State           string     `json:"state"`
	StateReason     string     `json:"state_reason"`
	CursorSeq       int64      `json:"cursor_seq"` // the last chain_seq handled (delivered or filtered out)
	Generation      int64      `json:"-"`
	Attempts        int        `json:"attempts"` // consecutive failed deliveries
	NextAttemptAt   time.Time  `json:"next_attempt_at"`
	Delivered       int64      `json:"delivered"`
	Failed          int64      `json:"failed"`
	LastError       string     `json:"last_error"`
	LastErrorAt     *time.Time `json:"last_error_at"`
	LastDeliveredAt *time.Time `json:"last_delivered_at"`
	CreatedAt       time.Time  `json:"created_at"`
	CreatedBy       string     `json:"created_by"`
	LagEvents       int64      `json:"lag_events"`  // sealed events after the cursor
	LagSeconds      float64    `json:"lag_seconds"` // age of the oldest of them
	secretKeyID     *string
	secretSealed    []byte
}

// SinkSecrets are a sink's secrets, sealed under the master key at rest.
type SinkSecrets struct {
	WebhookSecrets []WebhookSecret   `json:"webhook_secrets,omitempty"` // the current one first
	Headers        map[string]string `json:"headers,omitempty"`
	ClientKeyPEM   string            `json:"client_key_pem,omitempty"`
}

// WebhookSecret is a Standard Webhooks signing secret (whsec_…); a previous
// one signs too until it expires.
type WebhookSecret struct {
	Secret    string     `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// SigningKeys returns the HMAC keys that sign at now: the current secret's
// first, then a previous one that has not expired.
func (s SinkSecrets) SigningKeys(now time.Time) [][]byte {
	var keys [][]byte
	for _, ws := range s.WebhookSecrets {
		if ws.ExpiresAt != nil && !now.Before(*ws.ExpiresAt) {
			continue
		}
		if k, err := base64.StdEncoding.DecodeString(ws.Secret[len(webhookSecretPrefix):]); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// newWebhookSecret makes a whsec_ secret of 32 random bytes.
func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: webhook secret: %w", err)
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// sinkSelect reads sinks with their lag behind the signed chain head.
const sinkSelect = `SELECT s.id, s.name, s.kind, s.config, s.filter_app_ids, s.filter_actions, s.filter_outcomes,
	s.state, s.state_reason, s.cursor_seq, s.generation, s.attempts, s.next_attempt_at, s.delivered, s.failed,
	s.last_error, s.last_error_at, s.last_delivered_at, s.created_at, s.created_by, s.secret_key_id, s.secret_ciphertext,
	GREATEST(COALESCE(h.chain_seq, 0) - s.cursor_seq, 0),
	COALESCE(EXTRACT(EPOCH FROM now() - (SELECT e.occurred_at FROM audit_trail e
		WHERE e.chain_seq > s.cursor_seq ORDER BY e.chain_seq LIMIT 1)), 0)::float8
	FROM audit_sinks s LEFT JOIN audit_chain_head h ON true`

func scanSink(row pgx.Row) (Sink, error) {
	var k Sink
	var config []byte
	err := row.Scan(&k.ID, &k.Name, &k.Kind, &config, &k.Filter.AppIDs, &k.Filter.Actions, &k.Filter.Outcomes,
		&k.State, &k.StateReason, &k.CursorSeq, &k.Generation, &k.Attempts, &k.NextAttemptAt, &k.Delivered, &k.Failed,
		&k.LastError, &k.LastErrorAt, &k.LastDeliveredAt, &k.CreatedAt, &k.CreatedBy, &k.secretKeyID, &k.secretSealed,
		&k.LagEvents, &k.LagSeconds)
	if err != nil {
		return Sink{}, err
	}
	if err := json.Unmarshal(config, &k.Config); err != nil {
		return Sink{}, fmt.Errorf("sink %d config: %w", k.ID, err)
	}
	k.LagSeconds = max(0, k.LagSeconds)
	return k, nil
}

// ListSinks returns every sink, oldest first, with its lag.
func (s *Store) ListSinks(ctx context.Context) ([]Sink, error) {
	rows, err := s.pool.Query(ctx, sinkSelect+` ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("store: list sinks: %w", err)
	}
	defer rows.Close()
	var sinks []Sink
	for rows.Next() {
		k, err := scanSink(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sinks: %w", err)
		}
		sinks = append(sinks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sinks: %w", err)
	}
	return sinks, nil
}

// GetSink returns one sink with its lag, or ErrSinkNotFound.
func (s *Store) GetSink(ctx context.Context, id int64) (Sink, error) {
	return getSink(ctx, s.pool, id, "")
}

func getSink(ctx context.Context, db dbtx, id int64, lock string) (Sink, error) {
	k, err := scanSink(db.QueryRow(ctx, sinkSelect+` WHERE s.id = $1`+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Sink{}, ErrSinkNotFound
	}
	if err != nil {
		return Sink{}, fmt.Errorf("store: sink %d: %w", id, err)
	}
	return k, nil
}

// sinkAD binds a sink's sealed secrets to its row.
func sinkAD(id int64) []byte { return []byte("audit-sink:" + strconv.FormatInt(id, 10)) }

// OpenSinkSecrets decrypts the secrets of k.
func (s *Store) OpenSinkSecrets(k Sink) (SinkSecrets, error) {
	var sec SinkSecrets
	if k.secretKeyID == nil {
		return sec, nil
	}
	plain, err := s.keys.openBound(*k.secretKeyID, sinkAD(k.ID), k.secretSealed)
	if err != nil {
		return sec, err
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return sec, fmt.Errorf("store: sink %d secrets: %w", k.ID, err)
	}
	return sec, nil
}

// sealSinkSecrets writes sec, sealed, into sink id's row.
func (s *Store) sealSinkSecrets(ctx context.Context, tx pgx.Tx, id int64, sec SinkSecrets) error {
	plain, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("store: sink secrets: %w", err)
	}
	keyID, ct, err := s.keys.sealBound(sinkAD(id), plain)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_sinks SET secret_key_id = $2, secret_ciphertext = $3, updated_at = now() WHERE id = $1`,
		id, keyID, ct); err != nil {
		return fmt.Errorf("store: sink secrets: %w", err)
	}
	return nil
}

// CreateSink validates in, stores the sink with its secrets sealed and
// audits sink.create. For a webhook it returns the whsec_ signing secret:
// show it once, it is not shown again.
func (s *Store) CreateSink(ctx context.Context, in SinkInput, actor Actor, origin Origin) (Sink, string, error) {
	cfg, sec, err := in.validate(ctx)
	if err != nil {
		return Sink{}, "", err
	}
	var secret string
	if in.Kind == SinkWebhook {
		if secret, err = newWebhookSecret(); err != nil {
			return Sink{}, "", err
		}
		sec.WebhookSecrets = []WebhookSecret{{Secret: secret}}
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return Sink{}, "", fmt.Errorf("store: create sink: %w", err)
	}
	f := in.Filter.normalised()
	var k Sink
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO audit_sinks (name, kind, config, filter_app_ids, filter_actions, filter_outcomes, cursor_seq, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::bigint > 0 THEN $7::bigint - 1
				ELSE COALESCE((SELECT chain_seq FROM audit_chain_head), 0) END, $8) RETURNING id`,
			in.Name, in.Kind, config, f.AppIDs, f.Actions, f.Outcomes, in.FromSeq, actor.Name).Scan(&id)
		if isUniqueViolation(err) {
			return &ValidationError{Fields: map[string]string{"name": "another sink has this name"}}
		}
		if err != nil {
			return fmt.Errorf("store: create sink: %w", err)
		}
		if len(sec.WebhookSecrets) > 0 || len(sec.Headers) > 0 || sec.ClientKeyPEM != "" {
			if err := s.sealSinkSecrets(ctx, tx, id, sec); err != nil {
				return err
			}
		}
		if k, err = getSink(ctx, tx, id, ""); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "sink.create", Outcome: OutcomeSuccess,
			TargetType: "sink", TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"name": k.Name, "kind": k.Kind,
				"destination": k.Destination(), "filter": f, "from_seq": k.CursorSeq + 1, "header_names": cfg.HeaderNames,
				"allow_private": cfg.AllowPrivate}})
	})
	if err != nil {
		return Sink{}, "", err
	}
	return k, secret, nil
}

// Destination names where a sink delivers, without secrets: a webhook's URL
// without its query, a syslog address, a file name.
func (k Sink) Destination() string {
	switch k.Kind {
	case SinkWebhook:
		return redactURL(k.Config.URL)
	case SinkSyslog:
		return "syslog+tls://" + k.Config.Address
	default:
		return "file:" + k.Config.Path
	}
}

// SetSinkState pauses (SinkPaused) or resumes (SinkActive) a sink, auditing
// sink.pause or sink.resume. Resuming a disabled sink retries at once.
func (s *Store) SetSinkState(ctx context.Context, id int64, state string, actor Actor, origin Origin) (Sink, error) {
	action := map[string]string{SinkPaused: "sink.pause", SinkActive: "sink.resume"}[state]
	if action == "" {
		return Sink{}, fmt.Errorf("store: sink state %q: want %s or %s", state, SinkPaused, SinkActive)
	}
	return s.changeSink(ctx, id, action, actor, origin, nil, `UPDATE audit_sinks SET state = $2, state_reason = '',
		attempts = CASE WHEN $2 = 'active' THEN 0 ELSE attempts END, next_attempt_at = now(), updated_at = now() WHERE id = $1`, state)
}

// ReplaySink moves a sink's cursor so that it delivers again from chain
// position from on (the events still kept), auditing sink.replay.
func (s *Store) ReplaySink(ctx context.Context, id, from int64, actor Actor, origin Origin) (Sink, error) {
	if from < 1 {
		return Sink{}, &ValidationError{Fields: map[string]string{"from_seq": "want a chain sequence number of 1 or more"}}
	}
	return s.changeSink(ctx, id, "sink.replay", actor, origin, map[string]any{"from_seq": from},
		`UPDATE audit_sinks SET cursor_seq = $2 - 1, generation = generation + 1, attempts = 0, next_attempt_at = now(),
		updated_at = now() WHERE id = $1`, from)
}

// DeleteSink removes a sink, auditing sink.delete.
func (s *Store) DeleteSink(ctx context.Context, id int64, actor Actor, origin Origin) error {
	_, err := s.changeSink(ctx, id, "sink.delete", actor, origin, nil, `DELETE FROM audit_sinks WHERE id = $1`)
	return err
}

// RotateSinkSecret gives a webhook sink a new signing secret, returned once;
// the previous one keeps signing beside it for a day. Audits
// sink.secret_rotate.
func (s *Store) RotateSinkSecret(ctx context.Context, id int64, actor Actor, origin Origin) (string, error) {
	secret, err := newWebhookSecret()
	if err != nil {
		return "", err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		k, err := getSink(ctx, tx, id, " FOR UPDATE OF s")
		if err != nil {
			return err
		}
		if k.Kind != SinkWebhook {
			return &ValidationError{Fields: map[string]string{"kind": "only a webhook sink has a signing secret"}}
		}
		sec, err := s.OpenSinkSecrets(k)
		if err != nil {
			return err
		}
		until := time.Now().Add(sinkSecretOverlap)
		next := []WebhookSecret{{Secret: secret}}
		if len(sec.WebhookSecrets) > 0 {
			next = append(next, WebhookSecret{Secret: sec.WebhookSecrets[0].Secret, ExpiresAt: &until})
		}
		sec.WebhookSecrets = next
		if err := s.sealSinkSecrets(ctx, tx, id, sec); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "sink.secret_rotate", Outcome: OutcomeSuccess,
			TargetType: "sink", TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"name": k.Name, "previous_until": until.UTC()}})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RecordSinkTest audits sink.test: a test event sent to sink k, which
// failed with sendErr or succeeded.
func (s *Store) RecordSinkTest(ctx context.Context, k Sink, sendErr error, actor Actor, origin Origin) error {
	outcome, details := OutcomeSuccess, map[string]any{"name": k.Name, "destination": k.Destination()}
	if sendErr != nil {
		outcome, details["error"] = OutcomeError, sendErr.Error()
	}
	return s.Audit(ctx, Event{Actor: actor, Origin: origin, Action: "sink.test", Outcome: outcome,
		TargetType: "sink", TargetID: strconv.FormatInt(k.ID, 10), Details: details})
}

// changeSink runs one change of sink id (sql, with id as $1 and args after
// it) and its audit event in one transaction, and returns the sink after it.
func (s *Store) changeSink(ctx context.Context, id int64, action string, actor Actor, origin Origin, details map[string]any, sql string, args ...any) (Sink, error) {
	var k Sink
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := getSink(ctx, tx, id, " FOR UPDATE OF s")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sql, append([]any{id}, args...)...); err != nil {
			return fmt.Errorf("store: %s: %w", action, err)
		}
		if details == nil {
			details = map[string]any{}
		}
		details["name"], details["kind"] = before.Name, before.Kind
		if action != "sink.delete" {
			if k, err = getSink(ctx, tx, id, ""); err != nil {
				return err
			}
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: action, Outcome: OutcomeSuccess,
			TargetType: "sink", TargetID: strconv.FormatInt(id, 10), Details: details})
	})
	return k, err
}

// rekeySinks re-seals, in tx, the secrets of every sink sealed under
// another master key than the current one, and says how many.
func (s *Store) rekeySinks(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, sinkSelect+` WHERE s.secret_key_id <> $1 FOR UPDATE OF s`, s.keys.CurrentID())
	if err != nil {
		return 0, fmt.Errorf("store: rekey sinks: %w", err)
	}
	var sinks []Sink
	for rows.Next() {
		k, err := scanSink(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: rekey sinks: %w", err)
		}
		sinks = append(sinks, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: rekey sinks: %w", err)
	}
	for _, k := range sinks {
		sec, err := s.OpenSinkSecrets(k)
		if err != nil {
			return 0, fmt.Errorf("store: rekey sinks: %w", err)
		}
		if err := s.sealSinkSecrets(ctx, tx, k.ID, sec); err != nil {
			return 0, err
		}
	}
	return len(sinks), nil
}
