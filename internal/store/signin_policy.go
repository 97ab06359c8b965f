package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrPasswordSignInOff means the password was right but this account may not
// use one: CONSOLE_LOCAL_LOGIN allows passwords to admins only, or to nobody.
var ErrPasswordSignInOff = errors.New("store: password sign-in is not allowed for this account")

// reasonPasswordSignInOff is the auth.login_failed reason of ErrPasswordSignInOff.
const reasonPasswordSignInOff = "password_sign_in_off"

// Sign-in methods, as last_login_method and the method of auth.login events
// record them.
const (
	SignInPassword = "password"
	SignInOIDC     = "oidc"
)

// Local sign-in policies (CONSOLE_LOCAL_LOGIN): who may sign in with a password.
const (
	LocalLoginAll    = "all"
	LocalLoginAdmins = "admins"
	LocalLoginNone   = "none"
)

// PasswordSignIn is who may sign in with a password, and whether single
// sign-on is configured (a password sign-in is then audited as such).
// The zero value lets everyone, without SSO.
type PasswordSignIn struct {
	Policy        string // LocalLoginAll (or ""), LocalLoginAdmins, LocalLoginNone
	SSOConfigured bool
}

// ValidLocalLogin tells whether policy is one CONSOLE_LOCAL_LOGIN accepts.
func ValidLocalLogin(policy string) bool {
	return policy == LocalLoginAll || policy == LocalLoginAdmins || policy == LocalLoginNone
}

// SetPasswordSignIn sets who may sign in with a password; call it before
// serving.
func (s *Store) SetPasswordSignIn(p PasswordSignIn) { s.passwordSignIn = p }

// allows tells whether op may sign in with a password.
func (p PasswordSignIn) allows(op Operator) bool {
	switch p.Policy {
	case LocalLoginNone:
		return false
	case LocalLoginAdmins:
		return op.Role == RoleAdmin
	default:
		return true
	}
}

// details are those of a password sign-in's auth.login event.
func (p PasswordSignIn) details() map[string]any {
	d := map[string]any{"method": SignInPassword}
	if p.SSOConfigured {
		d["local_while_sso"] = true
	}
	return d
}

// recordSignIn notes when and how an operator last signed in.
func recordSignIn(ctx context.Context, tx pgx.Tx, operatorID int64, method string) error {
	if _, err := tx.Exec(ctx, `UPDATE operators SET last_login_at = now(), last_login_method = $2 WHERE id = $1`,
		operatorID, method); err != nil {
		return fmt.Errorf("store: record sign-in: %w", err)
	}
	return nil
}
