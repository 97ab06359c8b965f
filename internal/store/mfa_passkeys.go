package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Passkey is a passkey or security key of a person, as their account page
// shows it: never its key material.
type Passkey struct {
	ID             int64      `db:"id"`
	Name           string     `db:"name"`
	BackupEligible bool       `db:"backup_eligible"` // a synced passkey (it may live on several devices)
	UserVerified   bool       `db:"user_verified"`   // the authenticator checked a PIN or biometric at registration
	CloneWarning   bool       `db:"clone_warning"`   // its signature counter once went backwards
	SignCount      int64      `db:"sign_count"`
	CreatedAt      time.Time  `db:"created_at"`
	LastUsedAt     *time.Time `db:"last_used_at"`
}

// listPasskeys lists an operator's passkeys, oldest first.
func listPasskeys(ctx context.Context, db dbtx, operatorID int64) ([]Passkey, error) {
	rows, _ := db.Query(ctx, `SELECT id, name, backup_eligible, user_verified, clone_warning, sign_count, created_at, last_used_at
		FROM operator_passkeys WHERE operator_id = $1 ORDER BY id`, operatorID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Passkey])
	if err != nil {
		return nil, fmt.Errorf("store: list passkeys: %w", err)
	}
	return out, nil
}
