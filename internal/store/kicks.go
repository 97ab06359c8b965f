package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kick states, as a token's record and a revoke answer show them: a kick is
// queued until ZEGO has answered for every product of the project.
const (
	KickQueued = "queued"
	KickDone   = "done"
	KickFailed = "failed"
)

// kickActor is who the zego.kickout events say acted.
var kickActor = Actor{Type: ActorSystem, Name: "zego-kick"}

// maxKickRows bounds the outbox rows of one room one delivery locks.
const maxKickRows = 500

// queueKicks queues, in the revoking transaction tx, a kick out of its room
// for each product of each token of ids that names a room, when the token's
// project kicks on revoke; it returns how many were queued.
func queueKicks(ctx context.Context, tx pgx.Tx, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO zego_kicks (token_id, project_id, app_id, service, room_id, user_id)
		SELECT t.id, p.id, t.app_id, svc, t.room_id, t.user_id
		FROM issued_tokens t JOIN projects p ON p.id = t.project_id CROSS JOIN unnest(p.zego_services) AS svc
		WHERE t.id = ANY($1::uuid[]) AND t.room_id <> '' AND p.kick_on_revoke AND p.deleted_at IS NULL
		ON CONFLICT (token_id, service) DO NOTHING`, ids)
	if err != nil {
		return 0, fmt.Errorf("store: queue kicks: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Kick is one kick of a revoked token's user out of its room in one ZEGO
// product, as its last attempt left it.
type Kick struct {
	TokenID   string    `db:"token_id"`
	Service   string    `db:"service"`
	RoomID    string    `db:"room_id"`
	Status    string    `db:"status"` // KickQueued, KickDone, KickFailed
	Attempts  int       `db:"attempts"`
	Code      *int64    `db:"code"`       // ZEGO's Code of the last answer
	Message   string    `db:"message"`    // ZEGO's Message, or why there was no answer
	RequestID string    `db:"request_id"` // ZEGO's RequestId
	UpdatedAt time.Time `db:"updated_at"`
}

// KickState sums up a token's kicks: queued while any is, else failed if
// any failed, else done; "" when there are none.
func KickState(kicks []Kick) string {
	state := ""
	for _, k := range kicks {
		switch {
		case k.Status == KickQueued:
			return KickQueued
		case k.Status == KickFailed:
			state = KickFailed
		case state == "":
			state = KickDone
		}
	}
	return state
}

// tokenKicks returns the kicks of the tokens with ids, by token id.
func tokenKicks(ctx context.Context, db dbtx, ids []string) (map[string][]Kick, error) {
	rows, _ := db.Query(ctx, `SELECT token_id::text AS token_id, service, room_id, status, attempts, code, message, request_id, updated_at
		FROM zego_kicks WHERE token_id = ANY($1::uuid[]) ORDER BY token_id, service`, ids)
	kicks, err := pgx.CollectRows(rows, pgx.RowToStructByName[Kick])
	if err != nil {
		return nil, fmt.Errorf("store: kicks of tokens: %w", err)
	}
	out := map[string][]Kick{}
	for _, k := range kicks {
		out[k.TokenID] = append(out[k.TokenID], k)
	}
	return out, nil
}

// TokenKicks returns the kicks of the tokens with ids, by token id; tokens
// without kicks are absent.
func (s *Store) TokenKicks(ctx context.Context, ids []string) (map[string][]Kick, error) {
	var valid []string
	for _, id := range ids {
		if uuidRe.MatchString(id) {
			valid = append(valid, id)
		}
	}
	return tokenKicks(ctx, s.pool, valid)
}

// KickBatch is one call to a ZEGO product's kick-out action: users of one
// room of one project, at most the product's limit.
type KickBatch struct {
	AppID   uint32
	Service string // zego.ServiceRTC or zego.ServiceZIM
	Region  string
	RoomID  string
	UserIDs []string
	Attempt int    // 1 on the first attempt
	Secret  []byte // the project's active ServerSecret, to sign with; cleared after the call
}

// KickAttempt is the outcome of one call as its caller classified it, and
// ZEGO's answer as it came (never the request's signature).
type KickAttempt struct {
	State      string        // KickDone, KickFailed, or KickQueued to try again
	RetryIn    time.Duration // with KickQueued: when
	HTTPStatus int           // 0 when there was no answer
	Code       *int64        // ZEGO's Code, when the answer was ZEGO's JSON
	Message    string        // ZEGO's Message
	RequestID  string        // ZEGO's RequestId
	Error      string        // why there was no usable answer
}

// claimedKick is an outbox row DeliverKick locked.
type claimedKick struct {
	id       int64
	userID   string
	attempts int
}

// kickRoomLock is the first key of the advisory locks that keep a room's
// kicks (of one project and product) to one delivery at a time; the second
// is a hash of the room.
const kickRoomLock = 0x6b69636b // "kick"

// maxKickRoomCandidates is how many rooms with due kicks one delivery looks
// at before it gives up for now (the others being delivered elsewhere).
const maxKickRoomCandidates = 16

// DeliverKick delivers the due kicks of one room of one product and
// project, up to maxUsers distinct users, in one transaction: it takes the
// room (an advisory lock, so that a user's kicks in the room go out once,
// in one call) and its due rows (FOR UPDATE SKIP LOCKED, so that no other
// instance delivers them), calls deliver once, and records the attempt on
// every row with its zego.kickout audit event. It reports false when no
// kick was due or every due room is being delivered elsewhere. deliver runs
// while the locks are held; pass a ctx that outlives a shutdown long enough
// to record what ZEGO answered.
func (s *Store) DeliverKick(ctx context.Context, maxUsers func(service string) int, deliver func(context.Context, KickBatch) KickAttempt) (bool, error) {
	found := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		projectID, service, roomID, claimed, err := claimDueRoom(ctx, tx, maxUsers)
		if err != nil || len(claimed) == 0 {
			return err
		}
		found = true
		b := KickBatch{Service: service, RoomID: roomID}
		ids := make([]int64, len(claimed))
		for i, k := range claimed {
			ids[i] = k.id
			b.Attempt = max(b.Attempt, k.attempts+1)
			if len(b.UserIDs) == 0 || b.UserIDs[len(b.UserIDs)-1] != k.userID {
				b.UserIDs = append(b.UserIDs, k.userID)
			}
		}
		attempt, err := s.attemptKick(ctx, tx, projectID, &b, deliver)
		if err != nil {
			return err
		}
		return s.recordKick(ctx, tx, ids, b, attempt)
	})
	return found, err
}

// claimDueRoom takes the room whose kicks have been due longest that no
// other delivery holds, and locks its due kicks of the first users.
func claimDueRoom(ctx context.Context, tx pgx.Tx, maxUsers func(string) int) (int64, string, string, []claimedKick, error) {
	type room struct {
		projectID       int64
		service, roomID string
	}
	rows, _ := tx.Query(ctx, `SELECT project_id, service, room_id FROM zego_kicks
		WHERE status = 'queued' AND next_attempt_at <= now()
		GROUP BY project_id, service, room_id ORDER BY min(next_attempt_at), min(id) LIMIT $1`, maxKickRoomCandidates)
	var rooms []room
	var r room
	if _, err := pgx.ForEachRow(rows, []any{&r.projectID, &r.service, &r.roomID}, func() error {
		rooms = append(rooms, r)
		return nil
	}); err != nil {
		return 0, "", "", nil, fmt.Errorf("store: due kicks: %w", err)
	}
	for _, r := range rooms {
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2::bigint::text || '/' || $3::text || '/' || $4::text))`,
			kickRoomLock, r.projectID, r.service, r.roomID).Scan(&mine); err != nil {
			return 0, "", "", nil, fmt.Errorf("store: lock kicks of room: %w", err)
		}
		if !mine {
			continue
		}
		claimed, err := claimRoomKicks(ctx, tx, r.projectID, r.service, r.roomID, maxUsers(r.service))
		if err != nil || len(claimed) > 0 {
			return r.projectID, r.service, r.roomID, claimed, err
		}
	}
	return 0, "", "", nil, nil
}

// claimRoomKicks locks the due kicks of one room, product and project of
// the first limit users (rows of a user come together).
func claimRoomKicks(ctx context.Context, tx pgx.Tx, projectID int64, service, roomID string, limit int) ([]claimedKick, error) {
	rows, _ := tx.Query(ctx, `SELECT id, user_id, attempts FROM zego_kicks
		WHERE status = 'queued' AND next_attempt_at <= now() AND project_id = $1 AND service = $2 AND room_id = $3
		ORDER BY user_id, id LIMIT $4 FOR UPDATE SKIP LOCKED`, projectID, service, roomID, maxKickRows)
	var all []claimedKick
	var k claimedKick
	if _, err := pgx.ForEachRow(rows, []any{&k.id, &k.userID, &k.attempts}, func() error {
		all = append(all, k)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: claim kicks of room: %w", err)
	}
	users, n := 0, 0
	for n < len(all) {
		if n == 0 || all[n].userID != all[n-1].userID {
			if users == limit {
				break
			}
			users++
		}
		n++
	}
	return all[:n], nil
}

// attemptKick completes the batch with its project's AppID, region and
// secret and calls deliver; a project without a secret (deleted) cannot
// sign, which fails the kick without a call.
func (s *Store) attemptKick(ctx context.Context, tx pgx.Tx, projectID int64, b *KickBatch,
	deliver func(context.Context, KickBatch) KickAttempt) (KickAttempt, error) {
	var appID int64
	if err := tx.QueryRow(ctx, `SELECT app_id, zego_region FROM projects WHERE id = $1`, projectID).Scan(&appID, &b.Region); err != nil {
		return KickAttempt{}, fmt.Errorf("store: project of kick: %w", err)
	}
	b.AppID = uint32(appID)
	secrets, err := projectSecrets(ctx, tx, projectID)
	if err != nil {
		return KickAttempt{}, err
	}
	if len(secrets) == 0 || !secrets[0].Active {
		return KickAttempt{State: KickFailed, Error: "the project has no ServerSecret (it was deleted): nothing to sign the call with"}, nil
	}
	secret, err := s.open(secrets[0])
	if err != nil {
		return KickAttempt{}, fmt.Errorf("store: secret of kick: %w", err)
	}
	b.Secret = secret
	defer clear(secret)
	return deliver(ctx, *b), nil
}

// recordKick writes an attempt's outcome on the kicks ids and its
// zego.kickout audit event.
func (s *Store) recordKick(ctx context.Context, tx pgx.Tx, ids []int64, b KickBatch, a KickAttempt) error {
	if a.State != KickDone && a.State != KickFailed {
		a.State = KickQueued
	}
	message := a.Message
	if message == "" {
		message = a.Error
	}
	if _, err := tx.Exec(ctx, `UPDATE zego_kicks SET status = $2, attempts = attempts + 1,
			next_attempt_at = now() + $3::bigint * interval '1 microsecond', code = $4, message = $5, request_id = $6, updated_at = now()
		WHERE id = ANY($1)`, ids, a.State, a.RetryIn.Microseconds(), a.Code, auditText(message, 500), auditText(a.RequestID, 100)); err != nil {
		return fmt.Errorf("store: record kick: %w", err)
	}
	result, outcome := a.State, OutcomeSuccess
	switch a.State {
	case KickQueued:
		result, outcome = "retry", OutcomeError
	case KickFailed:
		outcome = OutcomeError
	}
	details := map[string]any{"service": b.Service, "region": b.Region, "room_id": b.RoomID, "user_ids": b.UserIDs,
		"attempt": b.Attempt, "result": result, "http_status": a.HTTPStatus, "message": a.Message, "request_id": a.RequestID}
	if a.Code != nil {
		details["code"] = *a.Code
	}
	if a.Error != "" {
		details["error"] = a.Error
	}
	if a.State == KickQueued {
		details["retry_in_ms"] = a.RetryIn.Milliseconds()
	}
	return s.insertAudit(ctx, tx, Event{Actor: kickActor, Action: "zego.kickout", Outcome: outcome, AppID: b.AppID,
		TargetType: "room", TargetID: b.RoomID, Details: details})
}

// ReserveZegoCall books the next slot for a call of a product for appID,
// calls spaced by spacing across every instance, and returns how long to
// wait before making it. Slots are counted by the database's clock.
func (s *Store) ReserveZegoCall(ctx context.Context, appID uint32, service string, spacing time.Duration) (time.Duration, error) {
	var waitMicros int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO zego_api_pace AS p (app_id, service, next_at) VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 microsecond')
		ON CONFLICT (app_id, service) DO UPDATE
			SET next_at = greatest(p.next_at, clock_timestamp()) + $3::bigint * interval '1 microsecond'
		RETURNING (extract(epoch FROM greatest(p.next_at - $3::bigint * interval '1 microsecond' - clock_timestamp(), interval '0')) * 1e6)::bigint`,
		int64(appID), service, spacing.Microseconds()).Scan(&waitMicros)
	if err != nil {
		return 0, fmt.Errorf("store: pace zego call: %w", err)
	}
	return time.Duration(waitMicros) * time.Microsecond, nil
}

// NextKickIn tells how long until the next queued kick is due (0 when one
// is due now); ok is false when none is queued.
func (s *Store) NextKickIn(ctx context.Context) (d time.Duration, ok bool, err error) {
	var micros *int64
	// NULL without a queued kick (not greatest(NULL, 0), which is 0: "due
	// now", and a worker would ask again at once, forever).
	if err := s.pool.QueryRow(ctx, `SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1e6)::bigint
		FROM zego_kicks WHERE status = 'queued'`).Scan(&micros); err != nil {
		return 0, false, fmt.Errorf("store: next kick: %w", err)
	}
	if micros == nil {
		return 0, false, nil
	}
	return max(time.Duration(*micros)*time.Microsecond, 0), true, nil
}
