package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// insertTokensSQL writes token records and their token.issue events, one
// row of each per element of its column arrays, in one statement. A row is
// written only if its project is still live and enabled and the secret that
// sealed its token still the project's active one: what activeSecrets read
// may have changed since. The check locks each project's row, then its
// active secret's, and looks again at what a transaction it waited for
// committed: the project FOR KEY SHARE (which the record's foreign key takes
// anyway), which waits for an admin who holds it FOR UPDATE, as disabling,
// deleting and rotating do; the secret FOR SHARE, which waits for any change
// to it (a rotation retires it, a deletion removes it), where KEY SHARE
// would let a change that keeps its key through unseen. An admin who comes
// second waits for the issue. Either a token was issued before the change
// or it is not issued at all. Projects are locked first, in id order, as the
// admins lock them, so that no admin waits for a secret the issue holds
// while the issue waits for it. The ids of the records written come back;
// their events follow them in the trail in the order of the arrays.
var insertTokensSQL = `
	WITH r AS (
		SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[],
			$7::boolean[], $8::boolean[], $9::jsonb[], $10::timestamptz[], $11::timestamptz[], $12::integer[],
			$13::bytea[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],
			$20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::bigint[], $26::text[],
			$27::text[], $28::text[], $29::text[], $30::text[], $31::jsonb[], $32::bytea[], $33::bigint[])
			WITH ORDINALITY AS r(id, project_id, app_id, secret_version, user_id, room_id,
				privilege_login, privilege_publish, stream_ids, ctime, expire, nonce,
				fingerprint, mode, channel, issued_by_type, issued_by_id, issued_by_name, client_ip,
				e_actor_type, e_actor_id, e_actor_name, e_action, e_outcome, e_app_id, e_target_type,
				e_target_id, e_request_id, e_client_ip, e_user_agent, e_details, e_token_fingerprint, e_project_id, ord)
	), live AS (
		SELECT p.id, sec.version FROM projects p JOIN project_secrets sec ON sec.project_id = p.id
		WHERE p.id IN (SELECT project_id FROM r) AND NOT p.disabled AND p.deleted_at IS NULL AND sec.active
		ORDER BY p.id
		FOR KEY SHARE OF p FOR SHARE OF sec
	), t AS (
		INSERT INTO issued_tokens (id, project_id, app_id, secret_version, user_id, room_id,
			privilege_login, privilege_publish, stream_ids, ctime, expire, nonce, fingerprint, mode,
			channel, issued_by_type, issued_by_id, issued_by_name, client_ip)
		SELECT r.id, r.project_id, r.app_id, r.secret_version, r.user_id, r.room_id,
			r.privilege_login, r.privilege_publish,
			CASE WHEN r.stream_ids IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(r.stream_ids)) END,
			r.ctime, r.expire, r.nonce, r.fingerprint, r.mode,
			r.channel, r.issued_by_type, r.issued_by_id, r.issued_by_name, r.client_ip
		FROM r JOIN live ON live.id = r.project_id AND live.version = r.secret_version
		ORDER BY r.ord
		RETURNING id
	), e AS (
		INSERT INTO audit_events (` + auditInsertColumns + `)
		SELECT r.e_actor_type, r.e_actor_id, r.e_actor_name, r.e_action, r.e_outcome, r.e_app_id,
			r.e_target_type, r.e_target_id, r.e_request_id, r.e_client_ip, r.e_user_agent, r.e_details,
			r.e_token_fingerprint, ` + auditProjectOf("r.e_project_id", "r.e_app_id") + `
		FROM r JOIN t ON t.id = r.id
		ORDER BY r.ord
	)
	SELECT id::text FROM t`

// insertTokensAndAudit writes each record with its event in one statement
// on db (on a pool, one commit for all). written[i] tells whether recs[i]
// was; one that was not has its reason in refused[i] (its project changed
// meanwhile). err is a failure of the statement: then nothing was written.
func (s *Store) insertTokensAndAudit(ctx context.Context, db dbtx, recs []TokenRecord, events []Event) (refused []error, err error) {
	start := time.Now()
	args, err := issueArgs(recs, events)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, insertTokensSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("store: insert token records and audit events: %w", err)
	}
	written := make(map[string]bool, len(recs))
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: insert token records and audit events: %w", err)
		}
		written[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: insert token records and audit events: %w", err)
	}
	refused = make([]error, len(recs))
	for i, rec := range recs {
		if !written[rec.ID] {
			refused[i] = s.whyNotIssued(ctx, db, rec)
		}
	}
	s.observeAuditWrite(start)
	return refused, nil
}

// issueArgs turns records and their events into insertTokensSQL's column
// arrays.
func issueArgs(recs []TokenRecord, events []Event) ([]any, error) {
	n := len(recs)
	var (
		ids, users, rooms, modes, channels, byTypes, byIDs, byNames, ips = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		projects, apps    = make([]int64, n), make([]int64, n)
		versions, nonces  = make([]int32, n), make([]int32, n)
		logins, publishes = make([]*bool, n), make([]*bool, n)
		streams           = make([][]byte, n)
		ctimes, expires   = make([]time.Time, n), make([]time.Time, n)
		fingerprints      = make([][]byte, n)
		audit             = make([][]any, len(auditArgTypes))
	)
	for c := range audit {
		audit[c] = make([]any, n)
	}
	for i, r := range recs {
		ids[i], projects[i], apps[i], versions[i], users[i], rooms[i] = r.ID, r.ProjectID, r.AppID, r.SecretVersion, r.UserID, r.RoomID
		logins[i], publishes[i], ctimes[i], expires[i], nonces[i], fingerprints[i] = r.PrivilegeLogin, r.PrivilegePublish, r.CTime, r.Expire, r.Nonce, r.Fingerprint
		modes[i], channels[i], byTypes[i], byIDs[i], byNames[i], ips[i] = r.Mode, r.Channel, r.IssuedByType, r.IssuedByID, r.IssuedByName, r.ClientIP
		if r.StreamIDs != nil {
			js, err := json.Marshal(r.StreamIDs)
			if err != nil {
				return nil, fmt.Errorf("store: stream ids: %w", err)
			}
			streams[i] = js
		}
		values, err := auditValues(events[i])
		if err != nil {
			return nil, err
		}
		for c, v := range values {
			audit[c][i] = v
		}
	}
	args := []any{ids, projects, apps, versions, users, rooms, logins, publishes, streams, ctimes, expires,
		nonces, fingerprints, modes, channels, byTypes, byIDs, byNames, ips}
	for _, column := range audit {
		args = append(args, column)
	}
	return args, nil
}

// whyNotIssued tells why insertTokensAndAudit found the project of rec no
// longer as activeSecrets had read it.
func (s *Store) whyNotIssued(ctx context.Context, db dbtx, rec TokenRecord) error {
	var disabled, deleted bool
	var active *int32
	err := db.QueryRow(ctx, `SELECT p.disabled, p.deleted_at IS NOT NULL,
			(SELECT version FROM project_secrets sec WHERE sec.project_id = p.id AND sec.active)
		FROM projects p WHERE p.id = $1`, rec.ProjectID).Scan(&disabled, &deleted, &active)
	switch {
	case err != nil:
		return fmt.Errorf("store: project %d changed while the token was being issued: %w", rec.AppID, err)
	case deleted:
		return fmt.Errorf("store: project %d: %w", rec.AppID, ErrProjectDeleted)
	case active == nil || *active != rec.SecretVersion:
		return fmt.Errorf("store: project %d: secret version %d: %w", rec.AppID, rec.SecretVersion, ErrSecretRotated)
	default:
		// Versions only grow and deletion is final: the project was disabled,
		// perhaps enabled again since.
		return fmt.Errorf("store: project %d: %w", rec.AppID, ErrProjectDisabled)
	}
}
