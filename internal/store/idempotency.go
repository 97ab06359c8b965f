package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdempotencyWindow is how long the first answer to a request sent with an
// Idempotency-Key is kept for its retries.
const IdempotencyWindow = 24 * time.Hour

// Errors of a request whose Idempotency-Key was seen before.
var (
	ErrIdempotencyInFlight = errors.New("a request with this idempotency key is still in flight")
	ErrIdempotencyMismatch = errors.New("this idempotency key was used for another request")
)

// Idempotency names a request that its client may retry: the API key it
// came with, the client's Idempotency-Key, and what it asked for (method,
// path and body in a canonical form). The same key with the same request
// gets the first answer again; with another request, ErrIdempotencyMismatch
// (with a field error on Idempotency-Key).
type Idempotency struct {
	APIKeyID int64
	Key      string
	Request  []byte
	// Who retries, from where, about which project: the audit event of a replay.
	Actor  Actor
	Origin Origin
	AppID  uint32
}

// Answer is a successful API answer as kept for replays.
type Answer struct {
	Status   int
	Location string // the Location header, if any
	Body     []byte // application/json
}

// idempotencyLockSpace tags the advisory locks of idempotency keys.
var idempotencyLockSpace = []byte("zego-console idempotency lock\x00")

// keyHash is the SHA-256 of the client's key: the row's identity.
func (i Idempotency) keyHash() []byte {
	sum := sha256.Sum256([]byte(i.Key))
	return sum[:]
}

// lockKey is the advisory lock held while the request runs, so that a second
// request with the same key finds it in flight rather than waiting for it.
func (i Idempotency) lockKey() int64 {
	h := sha256.New()
	h.Write(idempotencyLockSpace)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(i.APIKeyID)))
	h.Write(i.keyHash())
	return int64(binary.BigEndian.Uint64(h.Sum(nil)))
}

// answerAD binds a sealed answer to its API key and Idempotency-Key.
func answerAD(apiKeyID int64, keyHash []byte) []byte {
	return fmt.Appendf(nil, "idempotency:%d:%s", apiKeyID, hex.EncodeToString(keyHash))
}

// IssueTokenOnce is IssueToken for a request that may be retried: the first
// time it issues the token and keeps the answer that answer makes of it,
// sealed under the master key, for IdempotencyWindow; a retry gets that
// answer back (replayed true) and issues nothing. A failed issue keeps
// nothing, so its retry runs again.
func (s *Store) IssueTokenOnce(ctx context.Context, r IssueRequest, idem Idempotency, answer func(IssuedToken) (Answer, error)) (Answer, bool, error) {
	var issued *IssuedToken
	a, replayed, err := s.once(ctx, idem, func(tx pgx.Tx) (Answer, error) {
		it, err := s.issueOne(ctx, tx, r)
		if err != nil {
			return Answer{}, err
		}
		issued = &it
		return answer(it)
	})
	if err == nil && issued != nil {
		s.observeIssued([]IssuedToken{*issued})
	}
	return a, replayed, err
}

// RevokeUserTokensOnce is RevokeUserTokens for a request that may be
// retried, as IssueTokenOnce is for issuing: a retry gets the first answer
// (with the first count) and revokes nothing more.
func (s *Store) RevokeUserTokensOnce(ctx context.Context, appID uint32, userID, reason string, actor Actor, origin Origin,
	idem Idempotency, answer func(UserRevocation) (Answer, error)) (Answer, bool, error) {
	var res UserRevocation
	ran := false
	a, replayed, err := s.once(ctx, idem, func(tx pgx.Tx) (Answer, error) {
		var err error
		if res, err = s.revokeUserTokens(ctx, tx, appID, userID, reason, actor, origin); err != nil {
			return Answer{}, err
		}
		ran = true
		return answer(res)
	})
	if err == nil && ran && !replayed {
		s.observeTokensRevoked(int64(appID), res.Revoked)
	}
	return a, replayed, err
}

// once runs do in a transaction that also keeps its answer under idem, or
// replays the answer kept by an earlier run of the same request.
func (s *Store) once(ctx context.Context, idem Idempotency, do func(tx pgx.Tx) (Answer, error)) (Answer, bool, error) {
	keyHash, requestHash := idem.keyHash(), sha256.Sum256(idem.Request)
	var out Answer
	replayed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, idem.lockKey()).Scan(&locked); err != nil {
			return fmt.Errorf("store: idempotency key: lock: %w", err)
		}
		if !locked {
			return ErrIdempotencyInFlight
		}
		var kept struct {
			RequestHash []byte
			Status      int
			Location    string
			KeyID       string
			SealedBody  []byte
		}
		err := tx.QueryRow(ctx, `
			SELECT request_hash, status, location, key_id, sealed_body FROM idempotency_keys
			WHERE api_key_id = $1 AND key_hash = $2 AND expires_at > now()`, idem.APIKeyID, keyHash).Scan(
			&kept.RequestHash, &kept.Status, &kept.Location, &kept.KeyID, &kept.SealedBody)
		switch {
		case err == nil && string(kept.RequestHash) != string(requestHash[:]):
			return fmt.Errorf("%w: %w", ErrIdempotencyMismatch, &ValidationError{Fields: map[string]string{
				"Idempotency-Key": "was used for another request in the last 24 hours; use a new key for a new request"}})
		case err == nil:
			body, err := s.keys.openWith(kept.KeyID, answerAD(idem.APIKeyID, keyHash), kept.SealedBody)
			if err != nil {
				return fmt.Errorf("store: idempotency key: open kept answer: %w", err)
			}
			out, replayed = Answer{Status: kept.Status, Location: kept.Location, Body: body}, true
			return s.insertAudit(ctx, tx, Event{Actor: idem.Actor, Origin: idem.Origin, Action: "api.idempotent_replay",
				Outcome: OutcomeSuccess, AppID: idem.AppID, TargetType: "request", TargetID: kept.Location,
				Details: map[string]any{"status": kept.Status}})
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("store: idempotency key: %w", err)
		}
		if out, err = do(tx); err != nil {
			return err
		}
		keyID, sealed, err := s.keys.sealWith(answerAD(idem.APIKeyID, keyHash), out.Body)
		if err != nil {
			return fmt.Errorf("store: idempotency key: seal answer: %w", err)
		}
		// An expired row of the same key is replaced.
		if _, err := tx.Exec(ctx, `
			INSERT INTO idempotency_keys (api_key_id, key_hash, request_hash, status, location, key_id, sealed_body, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)
			ON CONFLICT (api_key_id, key_hash) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status,
				location = excluded.location, key_id = excluded.key_id, sealed_body = excluded.sealed_body,
				created_at = excluded.created_at, expires_at = excluded.expires_at`,
			idem.APIKeyID, keyHash, requestHash[:], out.Status, out.Location, keyID, sealed, IdempotencyWindow); err != nil {
			return fmt.Errorf("store: idempotency key: keep answer: %w", err)
		}
		return nil
	})
	return out, replayed, err
}

// PurgeIdempotencyKeys deletes the answers whose window has ended and says
// how many.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// rekeyIdempotentAnswers re-encrypts the kept answers under the current
// master key, as Rekey does ServerSecrets, and says how many changed.
func (s *Store) rekeyIdempotentAnswers(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `
		SELECT api_key_id, key_hash, key_id, sealed_body FROM idempotency_keys
		WHERE key_id <> $1 AND expires_at > now() FOR UPDATE`, s.keys.CurrentID())
	if err != nil {
		return 0, fmt.Errorf("store: rekey idempotent answers: %w", err)
	}
	type kept struct {
		APIKeyID   int64  `db:"api_key_id"`
		KeyHash    []byte `db:"key_hash"`
		KeyID      string `db:"key_id"`
		SealedBody []byte `db:"sealed_body"`
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByName[kept])
	if err != nil {
		return 0, fmt.Errorf("store: rekey idempotent answers: %w", err)
	}
	for _, k := range all {
		ad := answerAD(k.APIKeyID, k.KeyHash)
		body, err := s.keys.openWith(k.KeyID, ad, k.SealedBody)
		if err != nil {
			return 0, fmt.Errorf("store: rekey idempotent answers: %w", err)
		}
		keyID, sealed, err := s.keys.sealWith(ad, body)
		if err != nil {
			return 0, fmt.Errorf("store: rekey idempotent answers: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET key_id = $3, sealed_body = $4 WHERE api_key_id = $1 AND key_hash = $2`,
			k.APIKeyID, k.KeyHash, keyID, sealed); err != nil {
			return 0, fmt.Errorf("store: rekey idempotent answers: %w", err)
		}
	}
	return len(all), nil
}
