package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

func TestFieldText_MessagesWithNumbersReadTheSameInEnglishAndAreTranslated(t *testing.T) {
	en, zh := i18n.With(t.Context(), i18n.New(i18n.English)), i18n.With(t.Context(), i18n.New(i18n.Chinese))
	fill := regexp.MustCompile(`\{\{\.(\w+)\}\}`)
	for _, p := range fieldMessages {
		msg := fill.ReplaceAllStringFunc(p.id, func(ph string) string {
			if ph == "{{.List}}" {
				return "global, sha"
			}
			return "64"
		})
		if !p.re.MatchString(msg) {
			t.Errorf("pattern %s does not match its own message %q", p.re, msg)
			continue
		}
		if got := fieldText(en, msg); got != msg {
			t.Errorf("English %q: got %q, want it unchanged", msg, got)
		}
		got := fieldText(zh, msg)
		if got == msg || !strings.Contains(got, "64") && !strings.Contains(got, "global, sha") {
			t.Errorf("Chinese %q: got %q, want a translation carrying its values", msg, got)
		}
	}
}
