package store

import (
	"strings"
	"testing"
)

func TestParseMappingRules_RefusesWhatWouldMapPeopleWrongly(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, want string }{
		{"not a list", `{"claim": "groups"}`, "want a JSON list"},
		{"null", `null`, "want a JSON list"},
		{"unknown field", `[{"claim": "groups", "value": "ops", "role": "operator", "project": [1]}]`, "rule 1"},
		{"unknown role", `[{"claim": "groups", "value": "ops", "role": "root"}]`, "role must be"},
		{"empty claim", `[{"claim": "", "value": "ops", "role": "operator"}]`, "claim must be"},
		{"empty value", `[{"claim": "groups", "value": "", "role": "operator"}]`, "value must be"},
		{"empty projects", `[{"claim": "groups", "value": "ops", "role": "operator", "projects": []}]`, "list at least one AppID"},
		{"null projects", `[{"claim": "groups", "value": "ops", "role": "operator", "projects": null}]`, "list at least one AppID"},
		{"admin limited", `[{"claim": "groups", "value": "a", "role": "admin", "projects": [1]}]`, "an admin reaches every project"},
		{"AppID 0", `[{"claim": "groups", "value": "ops", "role": "operator", "projects": [0]}]`, "AppID 0"},
		{"AppID too large", `[{"claim": "groups", "value": "ops", "role": "operator", "projects": [4294967296]}]`, "rule 1"},
		{"NUL in value", `[{"claim": "groups", "value": "o\u0000ps", "role": "operator"}]`, "value must be"},
		{"second rule bad", `[{"claim": "groups", "value": "ops", "role": "operator"}, {"claim": "groups", "value": "x", "role": "boss"}]`, "rule 2"},
	}
	for _, c := range cases {
		_, err := ParseMappingRules([]byte(c.doc))
		if msg := FieldErrors(err)["rules"]; !strings.Contains(msg, c.want) {
			t.Errorf("%s: got %v, want a rules error saying %q", c.name, err, c.want)
		}
	}
}

func TestMatchMappingRule_FirstRuleWhoseClaimHoldsTheValueWins(t *testing.T) {
	t.Parallel()
	rules, err := ParseMappingRules([]byte(`[
		{"claim": "groups", "value": "admins", "role": "admin"},
		{"claim": "groups", "value": "ops", "role": "operator", "projects": [1234567890]},
		{"claim": "department", "value": "audit", "role": "auditor"},
		{"claim": "email_verified", "value": "true", "role": "auditor"}]`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"in ops and admins", map[string]any{"groups": []any{"ops", "admins"}}, 1},
		{"in ops", map[string]any{"groups": []any{"staff", "ops"}}, 2},
		{"a string claim", map[string]any{"department": "audit"}, 3},
		{"a boolean claim", map[string]any{"email_verified": true}, 4},
		{"groups as one string", map[string]any{"groups": "ops"}, 2},
		{"a near miss", map[string]any{"groups": []any{"Ops", "ops-eu"}}, 0},
		{"nothing", map[string]any{}, 0},
	}
	for _, c := range cases {
		_, pos, ok := MatchMappingRule(rules, c.claims)
		if pos != c.want || ok != (c.want != 0) {
			t.Errorf("%s: got rule %d (%v), want %d", c.name, pos, ok, c.want)
		}
	}
	if rules[1].Projects[0] != 1234567890 || rules[0].Projects != nil {
		t.Errorf("projects: got %v and %v, want [1234567890] and every project (nil)", rules[1].Projects, rules[0].Projects)
	}
}

func TestSeedMappingRules_LoadsTheFileOnceAndNeverOverAnAdminsRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	file := []MappingRule{{Claim: "groups", Value: "ops", Role: RoleOperator}}
	if seeded, err := b.st.SeedMappingRules(b.ctx, file, "rules.json"); err != nil || !seeded {
		t.Fatalf("first start: got %v, %v, want seeded", seeded, err)
	}
	admin := Actor{Type: ActorOperator, ID: "1", Name: "root"}
	if err := b.st.SetMappingRules(b.ctx, nil, admin, Origin{}); err != nil { // an admin removes every rule
		t.Fatal(err)
	}
	if seeded, err := b.st.SeedMappingRules(b.ctx, file, "rules.json"); err != nil || seeded {
		t.Fatalf("next start: got %v, %v, want the admin's rules kept", seeded, err)
	}
	rules, configured, err := b.st.MappingRules(b.ctx)
	if err != nil || !configured || len(rules) != 0 {
		t.Errorf("got %v (configured %v), %v; want the admin's empty list", rules, configured, err)
	}
	var seeds, updates int
	if err := b.owner.Pool().QueryRow(b.ctx, `SELECT count(*) FILTER (WHERE action = 'sso.rules_seed'),
		count(*) FILTER (WHERE action = 'sso.rules_update' AND actor_name = 'root') FROM audit_events`).Scan(&seeds, &updates); err != nil {
		t.Fatal(err)
	}
	if seeds != 1 || updates != 1 {
		t.Errorf("got %d sso.rules_seed and %d sso.rules_update events, want 1 and 1", seeds, updates)
	}
}
