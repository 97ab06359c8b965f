package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// The inspector looks its advice up by its English words when it shows it
// (t(ctx, e.Meaning)), which the test that finds the UI's texts cannot see.
func TestTranslations_EveryZEGOCodeMeaningAndFixIsInTheCatalogs(t *testing.T) {
	t.Parallel()
	now := time.Now()
	revoked := store.Introspection{Record: &store.TokenRecord{RevokedAt: &now}}
	var advice []zegoError
	for _, in := range []store.Introspection{
		revoked,
		{Err: token04.ErrExpired}, {Err: token04.ErrAppIDMismatch}, {Err: token04.ErrNotVersion04},
		{Err: token04.ErrClaimsNotJSON}, {Err: token04.ErrNotYetValid}, {Err: token04.ErrBase64},
		{Err: token04.ErrTruncated}, {Err: token04.ErrUnknownMode}, {Err: token04.ErrExpireMismatch},
		{Err: token04.ErrAuthentication, Reason: store.ReasonWrongSecret},
		{Err: token04.ErrAuthentication, Reason: store.ReasonUnknownSecret},
		{Err: errors.New("something else")},
	} {
		for _, adHoc := range []bool{false, true} {
			if e, ok := zegoErrorFor(in, adHoc); ok {
				advice = append(advice, e)
			}
		}
	}
	advice = append(advice, zegoCodeReference...)
	for _, e := range advice {
		for _, text := range []string{e.Meaning, e.Fix} {
			if text != "" && !i18n.Has(text) {
				t.Errorf("%d %s: no translation of %q", e.Code, e.Name, text)
			}
		}
	}
}
