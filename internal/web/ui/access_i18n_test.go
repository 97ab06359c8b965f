package ui

import (
	"net/http/httptest"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// The sign-in, account, people and API key pages also show texts that no
// t(ctx, "…") names: rows of tables (single sign-on refusals, step-up
// actions, scopes, expiry presets) and the store's field errors. Each must
// have its translation too.
func TestTranslations_AccessTablesAndFieldErrorsAreInTheCatalogs(t *testing.T) {
	texts := []string{ssoRefusedText}
	for _, ref := range ssoRefusals {
		texts = append(texts, ref.text)
	}
	for _, su := range stepUps {
		texts = append(texts, su.what)
	}
	for _, sc := range apiKeyScopes {
		texts = append(texts, sc.Help)
	}
	for _, e := range apiKeyExpiries {
		texts = append(texts, e.Label)
	}
	// The refusals of a change to a person (operatorChanged).
	texts = append(texts, "Role not changed for {{.Name}}:", "Not disabled for {{.Name}}:", "Not enabled for {{.Name}}:",
		"Password not changed for {{.Name}}:", "Projects not changed for {{.Name}}:", "Takeover not allowed for {{.Name}}:",
		"want AppIDs, whole numbers from 1 to 4294967295")
	for _, pw := range []string{"short", string(make([]byte, store.MaxPasswordLen+1))} {
		texts = append(texts, store.FieldErrors(store.ValidatePassword(pw))["password"])
	}
	// The store's field errors of the people, password, authenticator, API
	// key and single sign-on forms.
	texts = append(texts, "must differ from the current password", "must be 1 to 64 letters, digits or . _ @ -",
		"must be at most 100 characters of text", "must be admin, operator or auditor", "is already taken",
		"the last enabled admin cannot be demoted", "the last enabled admin cannot be disabled",
		"choose at least one project, or all projects", "AppID 0 names no project",
		"an admin reaches every project: change the role first", "want an e-mail address such as alice@example.com",
		"this account already signs in through SSO", "another account already waits for this e-mail",
		"choose at least one project", "app id 0 names no project", "choose at least one scope", "must be in the future",
		"is not the current code of your authenticator app: check that the device's clock is right and type the code it shows now",
		"claim must be 1 to 200 characters, such as groups", "value must be 1 to 200 characters",
		"role must be admin, operator or auditor", "an admin reaches every project: leave projects out",
		"projects: AppID 0 names no project")
	_, err := store.ParseMappingRules([]byte(`{}`))
	texts = append(texts, store.FieldErrors(err)["rules"])
	for _, s := range texts {
		if s == "" || !i18n.Has(s) {
			t.Errorf("no translation of %q", s)
		}
	}
}

// A refusal of the single sign-on rules names the rule and says why in the
// page's language.
func TestSSORulesError_NamesTheRuleAndSaysWhyInChinese(t *testing.T) {
	_, err := store.ParseMappingRules([]byte(`[{"claim": "groups", "value": "ops", "role": "operator", "projects": []}]`))
	r := httptest.NewRequest("POST", "/sso", nil)
	r = r.WithContext(i18n.With(r.Context(), i18n.New(i18n.Chinese)))
	got := ssoRulesErrorText(r, store.FieldErrors(err)["rules"])
	if want := "第 1 条规则：请在 projects 中至少列出一个 AppID，或省略 projects 以表示所有项目"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
