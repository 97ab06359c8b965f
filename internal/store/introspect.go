package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// Reasons a token is not active, as the API reports them.
const (
	ReasonMalformed     = "malformed"
	ReasonUnknownSecret = "unknown_secret"
	ReasonExpired       = "expired"
	ReasonNotYetValid   = "not_yet_valid"
	ReasonRevoked       = "revoked"
	ReasonAppIDMismatch = "app_id_mismatch"
	ReasonWrongSecret   = "wrong_secret"
)

// IntrospectOptions says how to look at a token.
type IntrospectOptions struct {
	Now     time.Time // zero => time.Now()
	AppID   uint32    // the project to check against; 0 => any allowed project
	Secret  []byte    // an ad hoc secret to check with instead of a stored one (not stored)
	Allowed func(appID uint32) bool
	Action  string // the audit action, e.g. token.introspect or token.inspect
	Actor   Actor
	Origin  Origin
}

// Introspection is what the console knows of a presented token.
type Introspection struct {
	Active        bool
	Reason        string // why it is not active; "" when active
	Err           error  // the token04 or lookup error behind Reason
	Decoded       *token04.Decoded
	Privilege     *token04.Privilege
	Record        *TokenRecord // set when the token was issued here
	AppID         uint32
	SecretVersion int32
}

// IssuedHere tells whether the console has a record of the token.
func (in Introspection) IssuedHere() bool { return in.Record != nil }

// Revoked tells whether the token was revoked here.
func (in Introspection) Revoked() bool { return in.Record != nil && in.Record.RevokedAt != nil }

// Introspect finds out whether a token is active: issued by a known secret,
// unexpired, unrevoked. It finds the record by fingerprint, then verifies with
// the record's secret version or, for tokens issued elsewhere, with every
// secret version of the allowed projects. The inspection is audited with the
// token's fingerprint, never the token.
func (s *Store) Introspect(ctx context.Context, token string, opt IntrospectOptions) (Introspection, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	fp := token04.FingerprintSum(token)
	in, err := s.introspect(ctx, token, fp[:], opt)
	if err != nil {
		return in, err
	}
	if opt.Action != "" {
		details := map[string]any{"active": in.Active, "reason": in.Reason, "issued_here": in.IssuedHere(), "adhoc_secret": opt.Secret != nil}
		e := Event{Actor: opt.Actor, Origin: opt.Origin, Action: opt.Action, Outcome: OutcomeSuccess, AppID: in.AppID,
			TargetType: "token", Details: details, TokenFingerprint: fp[:]}
		if in.Record != nil {
			e.TargetID, e.ProjectID = in.Record.ID, in.Record.ProjectID
		}
		if err := s.Audit(ctx, e); err != nil {
			return Introspection{}, err
		}
	}
	return in, nil
}

func (s *Store) introspect(ctx context.Context, token string, fp []byte, opt IntrospectOptions) (Introspection, error) {
	var in Introspection
	rec, err := s.TokenByFingerprint(ctx, fp)
	switch {
	case err == nil:
		in.Record = &rec
	case !errors.Is(err, ErrTokenNotFound):
		return in, err
	}
	allowed := func(appID uint32) bool {
		return (opt.AppID == 0 || opt.AppID == appID) && (opt.Allowed == nil || opt.Allowed(appID))
	}
	if in.Record != nil && !allowed(uint32(rec.AppID)) {
		in.Record = nil // someone else's token: say nothing about it
	}
	decode := func(secret []byte, appID uint32) (token04.Decoded, error) {
		return token04.Decode(token, secret, token04.DecodeOptions{Now: opt.Now, ExpectAppID: appID})
	}
	var dec token04.Decoded
	switch {
	case opt.Secret != nil:
		in.AppID = opt.AppID
		dec, err = decode(opt.Secret, opt.AppID)
	default:
		dec, err = s.decodeWithStoredSecrets(ctx, &in, allowed, decode)
	}
	in.Err = err
	if claimsAuthentic(err) {
		in.Decoded = &dec
		if p, perr := token04.ParsePrivilege(dec.Claims.Payload); perr == nil {
			in.Privilege = &p
		}
		if in.AppID == 0 {
			in.AppID = dec.Claims.AppID
		}
		if in.Record == nil && opt.Secret == nil && allowed(dec.Claims.AppID) {
			// Not found by fingerprint, yet authentic under a stored secret:
			// perhaps a token issued here and sealed anew around the same
			// claims (only a holder of the secret can). Its claims still name
			// the record, and its revocation. Authentic under a secret the
			// caller typed, the claims prove nothing about this console's
			// records: anyone can seal any claims under a secret of their own.
			rec, lerr := s.tokenByClaims(ctx, dec.Claims)
			switch {
			case lerr == nil:
				in.Record = &rec
			case !errors.Is(lerr, ErrTokenNotFound):
				return in, lerr
			}
		}
	}
	in.Reason = reasonFor(err, in)
	in.Active = in.Reason == ""
	return in, nil
}

// decodeWithStoredSecrets verifies with the record's own secret version, or
// tries each allowed project's versions until one authenticates the token.
func (s *Store) decodeWithStoredSecrets(ctx context.Context, in *Introspection, allowed func(uint32) bool,
	decode func([]byte, uint32) (token04.Decoded, error)) (token04.Decoded, error) {
	var projects []Project
	if in.Record != nil {
		projects = []Project{{ID: in.Record.ProjectID, AppID: in.Record.AppID}}
	} else {
		all, err := s.ListProjects(ctx)
		if err != nil {
			return token04.Decoded{}, err
		}
		for _, p := range all {
			if allowed(uint32(p.AppID)) {
				projects = append(projects, p)
			}
		}
	}
	var firstErr error = errNoCandidate
	for _, p := range projects {
		secs, err := projectSecrets(ctx, s.pool, p.ID)
		if err != nil {
			return token04.Decoded{}, err
		}
		for _, sec := range secs {
			if in.Record != nil && sec.Version != in.Record.SecretVersion {
				continue
			}
			secret, err := s.open(sec)
			if err != nil {
				return token04.Decoded{}, err
			}
			dec, err := decode(secret, uint32(p.AppID))
			clear(secret)
			if errors.Is(err, token04.ErrAuthentication) {
				if firstErr == errNoCandidate {
					firstErr = err
				}
				continue
			}
			if !openedWithThisSecret(err) {
				return dec, err // malformed: no secret will help
			}
			in.AppID, in.SecretVersion = uint32(p.AppID), sec.Version
			return dec, err
		}
	}
	return token04.Decoded{}, firstErr
}

// tokenByClaims finds the record of a token issued here by the claims
// inside it: AppID, user, creation time and the random nonce.
func (s *Store) tokenByClaims(ctx context.Context, c token04.Claims) (TokenRecord, error) {
	return oneToken(s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM issued_tokens
		WHERE project_id = `+fmt.Sprintf(liveProjectOf, 1)+` AND user_id = $2 AND ctime = $3 AND nonce = $4`,
		int64(c.AppID), c.UserID, time.Unix(c.CTime, 0).UTC(), c.Nonce))
}

// claimsAuthentic tells whether Decode returned authentic claims with err:
// the token verified, and at most its time or AppID is wrong.
func claimsAuthentic(err error) bool {
	return err == nil || errors.Is(err, token04.ErrExpired) || errors.Is(err, token04.ErrNotYetValid) ||
		errors.Is(err, token04.ErrAppIDMismatch)
}

// openedWithThisSecret tells whether err means the secret was the right one,
// even if the token then failed a later check.
func openedWithThisSecret(err error) bool {
	return claimsAuthentic(err) || errors.Is(err, token04.ErrClaimsNotJSON) || errors.Is(err, token04.ErrExpireMismatch)
}

var errNoCandidate = fmt.Errorf("%w: no stored secret verifies this token", token04.ErrAuthentication)

func reasonFor(err error, in Introspection) string {
	switch {
	case err == nil && in.Revoked():
		return ReasonRevoked
	case err == nil:
		return ""
	case errors.Is(err, token04.ErrExpired):
		return ReasonExpired
	case errors.Is(err, token04.ErrNotYetValid):
		return ReasonNotYetValid
	case errors.Is(err, token04.ErrAppIDMismatch):
		return ReasonAppIDMismatch
	case errors.Is(err, token04.ErrAuthentication) && in.Record != nil:
		return ReasonWrongSecret
	case errors.Is(err, token04.ErrAuthentication):
		return ReasonUnknownSecret
	default:
		return ReasonMalformed
	}
}
