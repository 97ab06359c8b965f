package ui

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

func TestVerifiedText_ABrokenChainIsExplainedInThePagesLanguage(t *testing.T) {
	t.Parallel()
	zh := i18n.With(context.Background(), i18n.New(i18n.Chinese))
	for _, msg := range []string{
		"event seq 42 (id 57) differs from what was sealed: its content was changed",
		"events 3..9 are missing after the prune checkpoint at seq 2",
		"the daily checkpoint at seq 1000 has a bad MAC: it was forged or altered",
		"the last event (seq 7) is not the one the sealer signed",
	} {
		rep := store.VerifyReport{OK: false, Message: msg}
		if got := verifiedText(context.Background(), rep); got != msg {
			t.Errorf("English: got %q, want the recorded message %q", got, msg)
		}
		got := verifiedText(zh, rep)
		if got == msg || !strings.ContainsFunc(got, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("Chinese: got %q for %q, want it in Chinese", got, msg)
		}
		for _, n := range []string{"42", "57", "1000", "3..9"} {
			if strings.Contains(msg, n) && !strings.Contains(got, strings.Split(n, "..")[0]) {
				t.Errorf("Chinese: %q lost the number %s of %q", got, n, msg)
			}
		}
	}
}

// The accounts of a broken chain and the store's field messages with a
// value are recognised by their English words: each must be one the store
// writes (its format, a verb for each placeholder; a refused destination
// wrapped as %w) and be translated.
func TestTranslations_EveryTextReadBackFromTheStoreIsItsAndInTheCatalogs(t *testing.T) {
	t.Parallel()
	var src []byte
	for _, f := range []string{"audit_verify.go", "audit_sink_input.go", "audit_query.go"} {
		b, err := os.ReadFile("../../store/" + f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	verb := regexp.MustCompile(`\{\{\.[A-Z]\}\}`)
	writes := func(text string) bool {
		quoted := regexp.QuoteMeta(verb.ReplaceAllString(text, "\x00"))
		return regexp.MustCompile(`"` + strings.ReplaceAll(quoted, "\x00", `%[dsqvw]`) + `"`).Match(src)
	}
	for _, b := range append(slices.Clone(chainBreaks), fieldMessages...) {
		id := b.id
		if !strings.Contains(id, "{{.A}}") {
			continue // token04's and the project rules', checked in form_test.go
		}
		outer, inner, wrapped := strings.Cut(id, "destination refused: ") // store.ErrDestinationRefused, wrapped
		if wrapped && !((outer == "" || writes(outer+"{{.W}}")) && writes("{{.W}}: "+inner)) || !wrapped && !writes(id) {
			t.Errorf("the store writes no %q", id)
		}
		if !i18n.Has(id) {
			t.Errorf("no translation of %q", id)
		}
	}
}

func TestSinkReasonText_ADisabledSinkSaysWhyInThePagesLanguage(t *testing.T) {
	t.Parallel()
	zh := i18n.With(context.Background(), i18n.New(i18n.Chinese))
	for reason, want := range map[string]string{
		"retries exhausted after 12 attempts": "已重试 12 次，重试次数用尽",
		"the receiver answered 410 Gone":      "接收方返回 410 Gone",
		"something new":                       "something new",
	} {
		if got := sinkReasonText(zh, reason); got != want {
			t.Errorf("%q in Chinese: got %q, want %q", reason, got, want)
		}
		if got := sinkReasonText(context.Background(), reason); got != reason {
			t.Errorf("%q in English: got %q, want it as recorded", reason, got)
		}
	}
}
