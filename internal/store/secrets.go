package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

var environmentRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// SecretVersion describes one version of a project's ServerSecret, never
// the secret itself: Hint is its last four characters.
type SecretVersion struct {
	Version   int32
	Active    bool
	CreatedAt time.Time
	CreatedBy string
	RetiredAt *time.Time
	Hint      string
}

// Masked renders the hint the way the UI shows a stored secret.
func (v SecretVersion) Masked() string { return "••••…" + v.Hint }

// sealedSecret is a row of project_secrets.
type sealedSecret struct {
	ProjectID  int64      `db:"project_id"`
	Version    int32      `db:"version"`
	KeyID      string     `db:"key_id"`
	Ciphertext []byte     `db:"ciphertext"`
	Active     bool       `db:"active"`
	CreatedAt  time.Time  `db:"created_at"`
	CreatedBy  string     `db:"created_by"`
	RetiredAt  *time.Time `db:"retired_at"`
}

func (s *Store) insertSecret(ctx context.Context, tx pgx.Tx, projectID int64, version int32, secret []byte, actor Actor) error {
	keyID, ct, err := s.keys.Seal(projectID, int(version), secret)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO project_secrets (project_id, version, key_id, ciphertext, active, created_by)
		VALUES ($1, $2, $3, $4, true, $5)`, projectID, version, keyID, ct, actor.Name); err != nil {
		return fmt.Errorf("store: insert secret: %w", err)
	}
	return nil
}

// RotateSecret records a new ServerSecret for a project (after it was reset in
// the ZEGO console) and retires the previous one, which stays readable so that
// older tokens can still be inspected.
func (s *Store) RotateSecret(ctx context.Context, appID uint32, secret []byte, actor Actor, origin Origin) (int32, error) {
	if err := ValidateSecret(secret); err != nil {
		return 0, err
	}
	var version int32
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := projectByAppID(ctx, tx, appID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE project_secrets SET active = false, retired_at = now() WHERE project_id = $1 AND active`, p.ID); err != nil {
			return fmt.Errorf("store: retire secret: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM project_secrets WHERE project_id = $1`, p.ID).Scan(&version); err != nil {
			return fmt.Errorf("store: next secret version: %w", err)
		}
		if err := s.insertSecret(ctx, tx, p.ID, version, secret, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projects SET updated_at = now() WHERE id = $1`, p.ID); err != nil {
			return fmt.Errorf("store: touch project: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "project.secret_rotate", Outcome: OutcomeSuccess,
			AppID: appID, ProjectID: p.ID, TargetType: "project", TargetID: fmt.Sprint(appID),
			Details: map[string]any{"from_version": p.SecretVersion, "to_version": version}})
	})
	return version, err
}

// projectSecrets returns the sealed secrets of a project, active first, then newest.
func projectSecrets(ctx context.Context, db dbtx, projectID int64) ([]sealedSecret, error) {
	rows, err := db.Query(ctx, `
		SELECT project_id, version, key_id, ciphertext, active, created_at, created_by, retired_at
		FROM project_secrets WHERE project_id = $1 ORDER BY active DESC, version DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: project secrets: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[sealedSecret])
	if err != nil {
		return nil, fmt.Errorf("store: project secrets: %w", err)
	}
	return out, nil
}

func (s *Store) open(sec sealedSecret) ([]byte, error) {
	return s.keys.Open(sec.KeyID, sec.ProjectID, int(sec.Version), sec.Ciphertext)
}

// SecretVersions lists a project's secret versions with their hints.
func (s *Store) SecretVersions(ctx context.Context, appID uint32) ([]SecretVersion, error) {
	p, err := s.ProjectByAppID(ctx, appID)
	if err != nil {
		return nil, err
	}
	secs, err := projectSecrets(ctx, s.pool, p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]SecretVersion, 0, len(secs))
	for _, sec := range secs {
		plain, err := s.open(sec)
		if err != nil {
			return nil, err
		}
		out = append(out, SecretVersion{Version: sec.Version, Active: sec.Active, CreatedAt: sec.CreatedAt,
			CreatedBy: sec.CreatedBy, RetiredAt: sec.RetiredAt, Hint: string(plain[len(plain)-4:])})
	}
	return out, nil
}

// Rekey re-encrypts every ServerSecret, every audit sink's secrets, every
// TOTP secret and every answer kept for an Idempotency-Key under the
// keyring's current master key and reports how many ciphertexts changed. It
// is audited as secrets.rekey.
func (s *Store) Rekey(ctx context.Context, actor Actor, origin Origin) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT project_id, version, key_id, ciphertext, active, created_at, created_by, retired_at
			FROM project_secrets WHERE key_id <> $1 FOR UPDATE`, s.keys.CurrentID())
		if err != nil {
			return fmt.Errorf("store: rekey: %w", err)
		}
		secs, err := pgx.CollectRows(rows, pgx.RowToStructByName[sealedSecret])
		if err != nil {
			return fmt.Errorf("store: rekey: %w", err)
		}
		for _, sec := range secs {
			plain, err := s.open(sec)
			if err != nil {
				return fmt.Errorf("store: rekey: %w", err)
			}
			keyID, ct, err := s.keys.Seal(sec.ProjectID, int(sec.Version), plain)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE project_secrets SET key_id = $3, ciphertext = $4 WHERE project_id = $1 AND version = $2`,
				sec.ProjectID, sec.Version, keyID, ct); err != nil {
				return fmt.Errorf("store: rekey: %w", err)
			}
			n++
		}
		answers, err := s.rekeyIdempotentAnswers(ctx, tx)
		if err != nil {
			return err
		}
		sinks, err := s.rekeySinks(ctx, tx)
		if err != nil {
			return err
		}
		n += sinks
		totps, err := s.rekeyTOTP(ctx, tx)
		if err != nil {
			return err
		}
		n += totps
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "secrets.rekey", Outcome: OutcomeSuccess,
			TargetType: "master_key", TargetID: s.keys.CurrentID(), Details: map[string]any{"reencrypted": n, "sinks": sinks, "idempotent_answers": answers, "totp_secrets": totps}})
	})
	return n, err
}

var errNoActiveSecret = errors.New("project has no active secret")
