package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Operator roles: admins manage people and keys, operators run projects and
// tokens, auditors only read.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleAuditor  = "auditor"
)

// Operator is a person who signs in to the web console. Its password hash
// never leaves the store.
type Operator struct {
	ID          int64     `db:"id"`
	Username    string    `db:"username"`
	DisplayName string    `db:"display_name"`
	Role        string    `db:"role"`
	Disabled    bool      `db:"disabled"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`

	// The grant: every project, or the live projects AppIDs names.
	AllProjects bool    `db:"all_projects"`
	AppIDs      []int64 `db:"app_ids"`

	LastLoginAt     *time.Time `db:"last_login_at"`
	LastLoginMethod string     `db:"last_login_method"` // "password", "oidc" or "" (never signed in)
	HasPassword     bool       `db:"has_password"`
	SSO             bool       `db:"sso"`            // signs in through the identity provider
	SSOEmail        string     `db:"sso_email"`      // the e-mail the provider last gave
	SSOLinkEmail    string     `db:"sso_link_email"` // a provider person with this verified e-mail may take this local account over

	// Second factors and the one-time password (see mfa.go).
	MustChangePassword bool `db:"must_change_password"` // the first admin's one-time password: changed at first sign-in
	TOTP               bool `db:"totp"`                 // an authenticator app is enrolled
	Passkeys           int  `db:"passkeys"`             // passkeys and security keys registered
}

// OperatorInput is what an admin enters to create an operator.
type OperatorInput struct {
	Username    string
	DisplayName string
	Role        string
	Password    string
}

// operatorColumns reads an Operator from the table operators, not aliased:
// the grant's projects are the live ones (a deleted project's AppID may later
// name another project, which the grant must not reach).
const operatorColumns = `operators.id, operators.username, operators.display_name, operators.role, operators.disabled,
	operators.created_at, operators.updated_at, operators.all_projects,
	ARRAY(SELECT p.app_id FROM operator_projects g JOIN projects p ON p.id = g.project_id
		WHERE g.operator_id = operators.id AND p.deleted_at IS NULL ORDER BY p.app_id) AS app_ids,
	operators.last_login_at, coalesce(operators.last_login_method, '') AS last_login_method,
	operators.password_hash IS NOT NULL AS has_password,
	EXISTS (SELECT 1 FROM operator_identities i WHERE i.operator_id = operators.id) AS sso,
	coalesce((SELECT i.email FROM operator_identities i WHERE i.operator_id = operators.id), '') AS sso_email,
	coalesce(operators.sso_link_email, '') AS sso_link_email, operators.must_change_password,
	EXISTS (SELECT 1 FROM operator_totp t WHERE t.operator_id = operators.id AND t.confirmed_at IS NOT NULL) AS totp,
	(SELECT count(*)::int FROM operator_passkeys k WHERE k.operator_id = operators.id) AS passkeys`

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// validRole tells whether role is one of the three roles.
func validRole(role string) bool {
	return role == RoleAdmin || role == RoleOperator || role == RoleAuditor
}

func (in OperatorInput) validate() error {
	v := validator{}
	v.check(usernamePattern.MatchString(in.Username), "username",
		"must be 1 to 64 letters, digits or . _ @ -")
	v.check(utf8.ValidString(in.DisplayName) && utf8.RuneCountInString(in.DisplayName) <= 100 &&
		!containsNUL(in.DisplayName), "display_name", "must be at most 100 characters of text")
	v.check(validRole(in.Role), "role", "must be admin, operator or auditor")
	if err := ValidatePassword(in.Password); err != nil {
		v.check(false, "password", "%s", FieldErrors(err)["password"])
	}
	return v.err()
}

// operatorActor names an operator as the actor of an audit event.
func operatorActor(o Operator) Actor {
	return Actor{Type: ActorOperator, ID: strconv.FormatInt(o.ID, 10), Name: o.Username}
}

// CreateOperator validates in, stores the operator with its hashed password
// and audits operator.create. A taken username is a ValidationError.
func (s *Store) CreateOperator(ctx context.Context, in OperatorInput, actor Actor, origin Origin) (Operator, error) {
	if err := in.validate(); err != nil {
		return Operator{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return Operator{}, err
	}
	var op Operator
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		op, err = s.insertOperator(ctx, tx, in, hash, actor, origin)
		return err
	})
	return op, err
}

// insertOperator writes the row and its operator.create event in tx.
func (s *Store) insertOperator(ctx context.Context, tx pgx.Tx, in OperatorInput, hash string, actor Actor, origin Origin) (Operator, error) {
	rows, _ := tx.Query(ctx, `
		INSERT INTO operators (username, display_name, role, password_hash)
		VALUES ($1, $2, $3, $4) RETURNING `+operatorColumns,
		in.Username, in.DisplayName, in.Role, hash)
	op, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operator])
	if isUniqueViolation(err) {
		return Operator{}, &ValidationError{Fields: map[string]string{"username": "is already taken"}}
	}
	if err != nil {
		return Operator{}, fmt.Errorf("store: insert operator: %w", err)
	}
	return op, s.insertAudit(ctx, tx, Event{
		Actor: actor, Origin: origin, Action: "operator.create", Outcome: OutcomeSuccess,
		TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
		Details: map[string]any{"username": op.Username, "role": op.Role, "display_name": op.DisplayName},
	})
}

// ListOperators returns every operator, by username.
func (s *Store) ListOperators(ctx context.Context) ([]Operator, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY username`)
	ops, err := pgx.CollectRows(rows, pgx.RowToStructByName[Operator])
	if err != nil {
		return nil, fmt.Errorf("store: list operators: %w", err)
	}
	return ops, nil
}

// OperatorByID returns one operator or ErrOperatorNotFound.
func (s *Store) OperatorByID(ctx context.Context, id int64) (Operator, error) {
	return operatorByID(ctx, s.pool, id, "")
}

// operatorByID reads one operator; lock is "" or a locking clause.
func operatorByID(ctx context.Context, db dbtx, id int64, lock string) (Operator, error) {
	rows, _ := db.Query(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1 `+lock, id)
	op, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operator])
	if errors.Is(err, pgx.ErrNoRows) {
		return Operator{}, ErrOperatorNotFound
	}
	if err != nil {
		return Operator{}, fmt.Errorf("store: operator %d: %w", id, err)
	}
	return op, nil
}

// EnsureAdmin creates an admin named username when there is no operator at
// all, so that a fresh console can be signed in to. It is safe for several
// instances starting at once: one creates, the others report false. A
// oneTime password (generated and printed) must be changed at the first
// sign-in.
func (s *Store) EnsureAdmin(ctx context.Context, username, password string, oneTime bool) (bool, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operators)`).Scan(&exists); err != nil {
		return false, fmt.Errorf("store: ensure admin: %w", err)
	}
	if exists {
		return false, nil
	}
	in := OperatorInput{Username: username, Role: RoleAdmin, Password: password}
	if err := in.validate(); err != nil {
		return false, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return false, err
	}
	created := false
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Blocks concurrent inserts until commit, so the re-check is decisive.
		if _, err := tx.Exec(ctx, `LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("store: ensure admin: lock: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operators)`).Scan(&exists); err != nil {
			return fmt.Errorf("store: ensure admin: %w", err)
		}
		if exists {
			return nil
		}
		system := Actor{Type: ActorSystem, Name: "system"}
		op, err := s.insertOperator(ctx, tx, in, hash, system, Origin{})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operators SET must_change_password = $2 WHERE id = $1`, op.ID, oneTime); err != nil {
			return fmt.Errorf("store: ensure admin: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// SetOperatorRole changes an operator's role and audits operator.role_change
// with the old and new role. The last enabled admin cannot be demoted.
func (s *Store) SetOperatorRole(ctx context.Context, id int64, role string, actor Actor, origin Origin) (Operator, error) {
	if !validRole(role) {
		return Operator{}, &ValidationError{Fields: map[string]string{"role": "must be admin, operator or auditor"}}
	}
	var op Operator
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := lockOperatorForAdminChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Role == role {
			op = before
			return nil
		}
		if before.Role == RoleAdmin {
			if err := guardLastAdmin(ctx, tx, before, "role", "the last enabled admin cannot be demoted"); err != nil {
				return err
			}
		}
		// An admin reaches every project: promoting widens the grant.
		rows, _ := tx.Query(ctx, `UPDATE operators SET role = $2, all_projects = all_projects OR $2 = 'admin', updated_at = now()
			WHERE id = $1 RETURNING `+operatorColumns, id, role)
		if op, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operator]); err != nil {
			return fmt.Errorf("store: set operator role: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "operator.role_change", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": op.Username, "from": before.Role, "to": role},
		})
	})
	return op, err
}

// SetOperatorDisabled disables or re-enables an operator, auditing
// operator.disable or operator.enable; disabling also ends their sessions.
// The last enabled admin cannot be disabled.
func (s *Store) SetOperatorDisabled(ctx context.Context, id int64, disabled bool, actor Actor, origin Origin) (Operator, error) {
	var op Operator
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := lockOperatorForAdminChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Disabled == disabled {
			op = before
			return nil
		}
		action := "operator.enable"
		if disabled {
			action = "operator.disable"
			if before.Role == RoleAdmin {
				if err := guardLastAdmin(ctx, tx, before, "disabled", "the last enabled admin cannot be disabled"); err != nil {
					return err
				}
			}
			if err := deleteOperatorSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		rows, _ := tx.Query(ctx, `UPDATE operators SET disabled = $2, updated_at = now() WHERE id = $1
			RETURNING `+operatorColumns, id, disabled)
		if op, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operator]); err != nil {
			return fmt.Errorf("store: set operator disabled: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: action, Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": op.Username},
		})
	})
	return op, err
}

// ResetOperatorPassword sets a new password (checked against the policy),
// ends the operator's sessions and audits operator.password_reset.
func (s *Store) ResetOperatorPassword(ctx context.Context, id int64, newPassword string, actor Actor, origin Origin) error {
	hash, err := s.hashPassword(newPassword)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var username string
		err := tx.QueryRow(ctx, `UPDATE operators SET password_hash = $2, updated_at = now() WHERE id = $1
			RETURNING username`, id, hash).Scan(&username)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrOperatorNotFound
		}
		if err != nil {
			return fmt.Errorf("store: reset operator password: %w", err)
		}
		if err := deleteOperatorSessions(ctx, tx, id); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "operator.password_reset", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": username},
		})
	})
}

// lockOperatorForAdminChange locks the enabled admins, then the target row,
// always in that order: two admins demoting each other at once are thereby
// serialised, and the second sees that only one admin is left.
func lockOperatorForAdminChange(ctx context.Context, tx pgx.Tx, id int64) (Operator, error) {
	if _, err := tx.Exec(ctx, `SELECT id FROM operators WHERE role = 'admin' AND NOT disabled
		ORDER BY id FOR UPDATE`); err != nil {
		return Operator{}, fmt.Errorf("store: lock admins: %w", err)
	}
	return operatorByID(ctx, tx, id, "FOR UPDATE")
}

// guardLastAdmin refuses a change that would leave no enabled admin.
func guardLastAdmin(ctx context.Context, tx pgx.Tx, target Operator, field, msg string) error {
	if target.Disabled {
		return nil
	}
	var others int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM operators WHERE role = 'admin' AND NOT disabled AND id <> $1`,
		target.ID).Scan(&others)
	if err != nil {
		return fmt.Errorf("store: count admins: %w", err)
	}
	if others == 0 {
		return &ValidationError{Fields: map[string]string{field: msg}}
	}
	return nil
}
