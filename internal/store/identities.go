package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// OIDCIdentity is who the identity provider says has signed in, from a
// verified ID token.
type OIDCIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Username      string // preferred_username, a suggestion for the console's username
	Name          string
}

// Reasons of refused SSO sign-ins, recorded in auth.login_failed events.
// The store decides the first five; the UI the others, which concern the
// protocol.
const (
	SSOUnmapped        = "unmapped"         // no mapping rule matches the person's claims
	SSOGroupsOverage   = "groups_overage"   // the provider sent a reference to the groups instead of the groups
	SSODisabled        = "disabled"         // an admin disabled the person here
	SSOEmailUnverified = "email_unverified" // a local account waits for this e-mail, which the provider does not vouch for
	SSOLastAdmin       = "last_admin"       // the rules would demote the last enabled admin
	SSOStateMissing    = "state_missing"    // no sign-in in progress in this browser (no cookie, or expired)
	SSOStateMismatch   = "state_mismatch"   // the state does not match the browser's sign-in
	SSOStateReplayed   = "state_replayed"   // the state was used already
	SSOVerifierMissing = "verifier_missing" // no PKCE verifier for this sign-in
	SSOProviderError   = "provider_error"   // the provider answered with an error, or could not be reached
	SSOCodeExchange    = "code_exchange"    // the provider refused the code
	SSOIDTokenInvalid  = "id_token_invalid" // signature, issuer, audience or expiry wrong, or no ID token
	SSONonceMismatch   = "nonce_mismatch"   // the ID token is not for this sign-in
)

// SSORefusedError is a refused SSO sign-in; its Reason is one of the SSO*
// constants.
type SSORefusedError struct{ Reason string }

func (e *SSORefusedError) Error() string { return "store: sso sign-in refused: " + e.Reason }

// errSSORefused rolls back the transaction of a refused sign-in.
var errSSORefused = errors.New("store: sso sign-in refused")

// SSORefusal returns the reason of a refused SSO sign-in, or "".
func SSORefusal(err error) string {
	var r *SSORefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// GroupsOverage tells whether the provider sent, instead of the groups
// claim, a reference to where to fetch it (_claim_names: Entra ID does so
// past 200 groups). The console refuses such a sign-in rather than map a
// person without their groups.
func GroupsOverage(claims map[string]any, groupsClaim string) bool {
	names, ok := claims["_claim_names"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = names[groupsClaim]
	return ok
}

// SignInOIDC signs in the person of a verified ID token: it maps their
// claims with the first matching rule, creates them at their first sign-in
// (or links the local account an admin let their verified e-mail take over),
// sets their role and grant again from the rule, and audits auth.login
// (with operator.create, operator.sso_link and operator.sync as they apply),
// all in one transaction. A refusal is an *SSORefusedError, audited as
// auth.login_failed with its reason; a known person refused for not being
// mapped any longer, or disabled, loses their sessions.
func (s *Store) SignInOIDC(ctx context.Context, id OIDCIdentity, claims map[string]any, groupsClaim string, origin Origin) (Operator, error) {
	if GroupsOverage(claims, groupsClaim) {
		return Operator{}, s.SSOFailed(ctx, id, SSOGroupsOverage, origin, map[string]any{"claim": groupsClaim})
	}
	var op Operator
	var refusal string
	var refusedID int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rules, _, err := mappingRules(ctx, tx)
		if err != nil {
			return err
		}
		rule, position, mapped := MatchMappingRule(rules, claims)
		var created bool
		op, created, refusal, err = s.findOrCreatePerson(ctx, tx, id, mapped, rule, origin)
		switch {
		case err != nil:
			return err
		case refusal == "" && op.Disabled:
			refusal = SSODisabled
		case refusal == "" && !mapped:
			refusal = SSOUnmapped
		}
		if refusal != "" {
			refusedID = op.ID
			return errSSORefused // nothing of this sign-in stays
		}
		unknown, err := s.syncPerson(ctx, tx, &op, rule, created, origin)
		if refusal = SSORefusal(err); refusal != "" {
			refusedID = op.ID
			return errSSORefused
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operator_identities SET email = $3 WHERE issuer = $1 AND subject = $2`,
			id.Issuer, id.Subject, clip(id.Email, 254)); err != nil {
			return fmt.Errorf("store: sso sign-in: %w", err)
		}
		if err := recordSignIn(ctx, tx, op.ID, SignInOIDC); err != nil {
			return err
		}
		details := map[string]any{"method": SignInOIDC, "issuer": id.Issuer, "subject": id.Subject, "rule": position,
			"role": op.Role, "grant": GrantOf(op).details()}
		if len(unknown) > 0 {
			details["unknown_app_ids"] = unknown
		}
		return s.insertAudit(ctx, tx, Event{Actor: operatorActor(op), Origin: origin, Action: "auth.login", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: details})
	})
	if err != nil && !errors.Is(err, errSSORefused) {
		return Operator{}, err
	}
	if refusal != "" {
		if refusedID != 0 && (refusal == SSOUnmapped || refusal == SSODisabled) {
			if err := s.DeleteOperatorSessions(ctx, refusedID); err != nil {
				return Operator{}, err
			}
		}
		return Operator{}, s.SSOFailed(ctx, id, refusal, origin, nil)
	}
	return op, nil
}

// findOrCreatePerson finds the person of (issuer, subject), locked; links
// the local account waiting for their verified e-mail; or, when a rule
// maps them, creates them. refusal is set instead when none may be done.
func (s *Store) findOrCreatePerson(ctx context.Context, tx pgx.Tx, id OIDCIdentity, mapped bool, rule MappingRule,
	origin Origin) (op Operator, created bool, refusal string, err error) {
	var opID int64
	err = tx.QueryRow(ctx, `SELECT operator_id FROM operator_identities WHERE issuer = $1 AND subject = $2`,
		id.Issuer, id.Subject).Scan(&opID)
	switch {
	case err == nil:
		op, err = operatorByID(ctx, tx, opID, "FOR UPDATE")
		return op, false, "", err
	case !errors.Is(err, pgx.ErrNoRows):
		return Operator{}, false, "", fmt.Errorf("store: sso sign-in: find person: %w", err)
	}
	if id.Email != "" {
		err = tx.QueryRow(ctx, `SELECT id FROM operators WHERE lower(sso_link_email) = lower($1) FOR UPDATE`, id.Email).Scan(&opID)
		switch {
		case err == nil && !id.EmailVerified:
			return Operator{}, false, SSOEmailUnverified, nil
		case err == nil:
			return s.linkPerson(ctx, tx, opID, id, origin)
		case !errors.Is(err, pgx.ErrNoRows):
			return Operator{}, false, "", fmt.Errorf("store: sso sign-in: find link: %w", err)
		}
	}
	if !mapped {
		return Operator{}, false, SSOUnmapped, nil
	}
	op, err = s.createPerson(ctx, tx, id, rule, origin)
	return op, true, "", err
}

// linkPerson lets the provider person take over the local account opID.
func (s *Store) linkPerson(ctx context.Context, tx pgx.Tx, opID int64, id OIDCIdentity, origin Origin) (Operator, bool, string, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO operator_identities (issuer, subject, operator_id, email) VALUES ($1, $2, $3, $4)`,
		id.Issuer, id.Subject, opID, clip(id.Email, 254)); err != nil {
		return Operator{}, false, "", fmt.Errorf("store: sso sign-in: link: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE operators SET sso_link_email = NULL, updated_at = now() WHERE id = $1`, opID); err != nil {
		return Operator{}, false, "", fmt.Errorf("store: sso sign-in: link: %w", err)
	}
	op, err := operatorByID(ctx, tx, opID, "FOR UPDATE")
	if err != nil {
		return Operator{}, false, "", err
	}
	return op, false, "", s.insertAudit(ctx, tx, Event{Actor: operatorActor(op), Origin: origin, Action: "operator.sso_link",
		Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
		Details: map[string]any{"username": op.Username, "issuer": id.Issuer, "subject": id.Subject, "email": id.Email}})
}

// createPerson adds the provider person as an operator without a password,
// with a free username made from their preferred username or e-mail.
func (s *Store) createPerson(ctx context.Context, tx pgx.Tx, id OIDCIdentity, rule MappingRule, origin Origin) (Operator, error) {
	username, err := freeUsername(ctx, tx, id)
	if err != nil {
		return Operator{}, err
	}
	var opID int64
	if err := tx.QueryRow(ctx, `INSERT INTO operators (username, display_name, role) VALUES ($1, $2, $3) RETURNING id`,
		username, clip(id.Name, 100), rule.Role).Scan(&opID); err != nil {
		return Operator{}, fmt.Errorf("store: sso sign-in: create person: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO operator_identities (issuer, subject, operator_id, email) VALUES ($1, $2, $3, $4)`,
		id.Issuer, id.Subject, opID, clip(id.Email, 254)); err != nil {
		return Operator{}, fmt.Errorf("store: sso sign-in: create identity: %w", err)
	}
	op, err := operatorByID(ctx, tx, opID, "FOR UPDATE")
	if err != nil {
		return Operator{}, err
	}
	return op, s.insertAudit(ctx, tx, Event{Actor: Actor{Type: ActorSystem, Name: "sso"}, Origin: origin, Action: "operator.create",
		Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
		Details: map[string]any{"username": op.Username, "role": op.Role, "display_name": op.DisplayName,
			"via": "sso", "issuer": id.Issuer, "subject": id.Subject, "email": id.Email}})
}

// syncPerson sets op's role and grant from the rule and audits
// operator.sync when they change (a new person's were just set); it
// returns the rule's AppIDs that name no live project. Demoting the last
// enabled admin is refused with SSOLastAdmin.
func (s *Store) syncPerson(ctx context.Context, tx pgx.Tx, op *Operator, rule MappingRule, created bool, origin Origin) ([]uint32, error) {
	before := *op
	want := Grant{AllProjects: rule.Projects == nil}
	var ids []int64
	var unknown []uint32
	if !want.AllProjects {
		var err error
		if ids, want.AppIDs, unknown, err = liveProjectIDs(ctx, tx, rule.Projects); err != nil {
			return nil, err
		}
	}
	if !created && before.Role == rule.Role && GrantOf(before).equal(want) {
		return unknown, nil
	}
	if before.Role == RoleAdmin && rule.Role != RoleAdmin {
		if _, err := lockOperatorForAdminChange(ctx, tx, op.ID); err != nil {
			return nil, err
		}
		if err := guardLastAdmin(ctx, tx, before, "role", "last admin"); err != nil {
			if FieldErrors(err) != nil {
				return nil, &SSORefusedError{Reason: SSOLastAdmin}
			}
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE operators SET role = $2, all_projects = true WHERE id = $1`, op.ID, rule.Role); err != nil {
		return nil, fmt.Errorf("store: sso sign-in: set role: %w", err)
	}
	if err := writeGrant(ctx, tx, op.ID, want.AllProjects, ids); err != nil {
		return nil, err
	}
	updated, err := operatorByID(ctx, tx, op.ID, "")
	if err != nil {
		return nil, err
	}
	*op = updated
	if created {
		return unknown, nil
	}
	return unknown, s.insertAudit(ctx, tx, Event{Actor: Actor{Type: ActorSystem, Name: "sso"}, Origin: origin, Action: "operator.sync",
		Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
		Details: map[string]any{"username": op.Username, "from": map[string]any{"role": before.Role, "grant": GrantOf(before).details()},
			"to": map[string]any{"role": op.Role, "grant": GrantOf(*op).details()}}})
}

// SSOFailed audits a refused SSO sign-in as auth.login_failed with its
// reason (and extra details) and returns it as an *SSORefusedError, or the
// error that kept it from being audited.
func (s *Store) SSOFailed(ctx context.Context, id OIDCIdentity, reason string, origin Origin, extra map[string]any) error {
	details := map[string]any{"reason": reason, "method": SignInOIDC}
	for k, v := range extra {
		details[k] = v
	}
	name := ""
	if id.Subject != "" {
		details["issuer"], details["subject"] = id.Issuer, id.Subject
		name = cleanName(orElse(id.Email, id.Subject))
	}
	if err := s.Audit(context.WithoutCancel(ctx), Event{Actor: Actor{Type: ActorAnonymous, Name: name}, Origin: origin,
		Action: "auth.login_failed", Outcome: OutcomeDenied, Details: details}); err != nil {
		return err
	}
	return &SSORefusedError{Reason: reason}
}

var usernameUnsafe = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// freeUsername makes a username no one has from the person's preferred
// username or e-mail (or, failing both, their subject), adding -2, -3, … when
// taken: a provider person never takes a local account's name.
func freeUsername(ctx context.Context, tx pgx.Tx, id OIDCIdentity) (string, error) {
	base := usernameUnsafe.ReplaceAllString(orElse(id.Username, id.Email), "-")
	base = strings.Trim(base, "-.")
	if base == "" {
		sum := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
		base = "sso-" + hex.EncodeToString(sum[:5])
	}
	base = clip(base, 56)
	for n := 1; n <= 50; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operators WHERE lower(username) = lower($1))`, name).Scan(&taken); err != nil {
			return "", fmt.Errorf("store: sso sign-in: username: %w", err)
		}
		if !taken {
			return name, nil
		}
	}
	sum := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
	return "sso-" + hex.EncodeToString(sum[:8]), nil
}

// clip cuts s to at most n bytes on a character boundary, valid UTF-8 without NUL.
func clip(s string, n int) string { return auditText(s, n) }

// orElse returns s, or fallback when s is empty.
func orElse(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
