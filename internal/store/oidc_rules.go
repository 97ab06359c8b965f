package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// MappingRule gives the people whose ID token claim Claim holds Value (a
// string equal to it, or a list containing it) a role and projects.
type MappingRule struct {
	Claim    string   `json:"claim"`
	Value    string   `json:"value"`
	Role     string   `json:"role"`
	Projects []uint32 `json:"projects,omitempty"` // AppIDs; absent: every project
}

// maxMappingRules bounds the rule list: a sign-in walks it.
const maxMappingRules = 200

// ParseMappingRules reads an ordered JSON list of rules, such as
// [{"claim": "groups", "value": "ops", "role": "operator", "projects": [1234567890]}].
// Unknown fields, an empty projects list (leave it out for every project)
// and an admin limited to projects are refused, as a *ValidationError on
// "rules" naming the rule.
func ParseMappingRules(data []byte) ([]MappingRule, error) {
	bad := func(format string, a ...any) error {
		return &ValidationError{Fields: map[string]string{"rules": fmt.Sprintf(format, a...)}}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return nil, bad("want a JSON list of rules such as [{\"claim\": \"groups\", \"value\": \"ops\", \"role\": \"operator\", \"projects\": [1234567890]}]")
	}
	if len(raw) > maxMappingRules {
		return nil, bad("at most %d rules", maxMappingRules)
	}
	rules := make([]MappingRule, 0, len(raw))
	for i, item := range raw {
		var r MappingRule
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, bad("rule %d: want an object with claim, value, role and, optionally, projects (a list of AppIDs): %v", i+1, err)
		}
		if err := r.validate(); err != nil {
			return nil, bad("rule %d: %s", i+1, err)
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(item, &fields)
		if p, ok := fields["projects"]; ok && (len(r.Projects) == 0 || string(p) == "null") {
			return nil, bad("rule %d: list at least one AppID in projects, or leave projects out for every project", i+1)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (r MappingRule) validate() error {
	text := func(s string) bool {
		return s != "" && utf8.ValidString(s) && !containsNUL(s) && utf8.RuneCountInString(s) <= 200
	}
	switch {
	case !text(r.Claim):
		return errors.New("claim must be 1 to 200 characters, such as groups")
	case !text(r.Value):
		return errors.New("value must be 1 to 200 characters")
	case !validRole(r.Role):
		return errors.New("role must be admin, operator or auditor")
	case r.Role == RoleAdmin && r.Projects != nil:
		return errors.New("an admin reaches every project: leave projects out")
	case slices.Contains(r.Projects, 0):
		return errors.New("projects: AppID 0 names no project")
	}
	return nil
}

// matches tells whether the claims hold the rule's value in its claim.
func (r MappingRule) matches(claims map[string]any) bool {
	switch v := claims[r.Claim].(type) {
	case string:
		return v == r.Value
	case bool, float64, json.Number:
		return fmt.Sprint(v) == r.Value
	case []any:
		for _, item := range v {
			if s, ok := item.(string); ok && s == r.Value {
				return true
			}
		}
	}
	return false
}

// MatchMappingRule returns the first rule the claims match and its position
// (from 1), or ok false.
func MatchMappingRule(rules []MappingRule, claims map[string]any) (rule MappingRule, position int, ok bool) {
	for i, r := range rules {
		if r.matches(claims) {
			return r, i + 1, true
		}
	}
	return MappingRule{}, 0, false
}

// MappingRules returns the SSO mapping rules, and whether any were ever set
// (or seeded); none set means nobody is mapped.
func (s *Store) MappingRules(ctx context.Context) (rules []MappingRule, configured bool, err error) {
	return mappingRules(ctx, s.pool)
}

func mappingRules(ctx context.Context, db dbtx) ([]MappingRule, bool, error) {
	var raw []byte
	err := db.QueryRow(ctx, `SELECT rules FROM oidc_mapping`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: mapping rules: %w", err)
	}
	rules, err := ParseMappingRules(raw)
	if err != nil {
		return nil, true, fmt.Errorf("store: mapping rules: %w", err)
	}
	return rules, true, nil
}

// SetMappingRules replaces the SSO mapping rules and audits sso.rules_update
// with the rules before and after. The next sign-in of each person applies them.
func (s *Store) SetMappingRules(ctx context.Context, rules []MappingRule, actor Actor, origin Origin) error {
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return &ValidationError{Fields: map[string]string{"rules": "rule " + strconv.Itoa(i+1) + ": " + err.Error()}}
		}
	}
	doc, err := json.Marshal(nonNil(rules))
	if err != nil {
		return fmt.Errorf("store: set mapping rules: %w", err)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		before, _, err := mappingRules(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_mapping (rules, updated_by) VALUES ($1, $2)
			ON CONFLICT (singleton) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()`,
			doc, actor.Name); err != nil {
			return fmt.Errorf("store: set mapping rules: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "sso.rules_update", Outcome: OutcomeSuccess,
			TargetType: "sso", TargetID: "rules", Details: map[string]any{"before": nonNil(before), "after": nonNil(rules)}})
	})
}

// SeedMappingRules sets the rules when none were ever set (the first start
// with CONSOLE_OIDC_RULES_FILE), auditing sso.rules_seed, and tells whether
// it did; rules set since, even to an empty list, stay.
func (s *Store) SeedMappingRules(ctx context.Context, rules []MappingRule, source string) (bool, error) {
	doc, err := json.Marshal(nonNil(rules))
	if err != nil {
		return false, fmt.Errorf("store: seed mapping rules: %w", err)
	}
	seeded := false
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO oidc_mapping (rules, updated_by) VALUES ($1, 'system')
			ON CONFLICT (singleton) DO NOTHING`, doc)
		if err != nil {
			return fmt.Errorf("store: seed mapping rules: %w", err)
		}
		if seeded = tag.RowsAffected() == 1; !seeded {
			return nil
		}
		return s.insertAudit(ctx, tx, Event{Actor: Actor{Type: ActorSystem, Name: "system"}, Action: "sso.rules_seed",
			Outcome: OutcomeSuccess, TargetType: "sso", TargetID: "rules", Details: map[string]any{"source": source, "rules": nonNil(rules)}})
	})
	return seeded, err
}

// nonNil writes an empty list as [] rather than null.
func nonNil(rules []MappingRule) []MappingRule {
	if rules == nil {
		return []MappingRule{}
	}
	return rules
}
