package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// ChangeOwnPassword sets a person's new password after checking their
// current one, which is throttled, counted and audited like a sign-in
// (a wrong one: a denied account.password_change, and ErrBadCredentials).
// Every other session of theirs ends; the one they use (sessionID) goes on.
// It audits account.password_change and clears a one-time password's duty
// to be changed. A new password that breaks the policy, or equals the
// current one, is a ValidationError on "new_password" and checks nothing.
func (s *Store) ChangeOwnPassword(ctx context.Context, op Operator, current, next, sessionID string, origin Origin) error {
	if err := ValidatePassword(next); err != nil {
		return &ValidationError{Fields: map[string]string{"new_password": FieldErrors(err)["password"]}}
	}
	if current == next {
		return &ValidationError{Fields: map[string]string{"new_password": "must differ from the current password"}}
	}
	who := attemptedAccount{key: op.Username, actor: operatorActor(op), action: "account.password_change"}
	attempt, err := s.recordAttempt(ctx, who, origin)
	if err != nil {
		return err
	}
	ok, err := s.checkOwnPassword(ctx, op.ID, current)
	if err != nil {
		return err
	}
	if !ok {
		return s.loginFailed(ctx, who, reasonBadPassword, origin, ErrBadCredentials, nil)
	}
	newHash, err := s.hashPassword(next)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE id = $1`, attempt); err != nil {
			return fmt.Errorf("store: clear login attempt: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET password_hash = $2, must_change_password = false, updated_at = now()
			WHERE id = $1`, op.ID, newHash); err != nil {
			return fmt.Errorf("store: change password: %w", err)
		}
		ended, err := deleteOtherSessions(ctx, tx, op.ID, sessionID)
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: operatorActor(op), Origin: origin, Action: "account.password_change",
			Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
			Details: map[string]any{"username": op.Username, "sessions_ended": ended, "one_time": op.MustChangePassword}})
	})
}
