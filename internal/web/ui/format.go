package ui

import (
	"context"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// Small formatters the templates share.

// envBadge is the badge class of an environment label: production stands out.
func envBadge(env string) string {
	switch {
	case env == "prod" || strings.HasPrefix(env, "prod"):
		return "badge badge-bad"
	case strings.HasPrefix(env, "stag"):
		return "badge badge-warn"
	default:
		return "badge badge-ok"
	}
}

// i64 writes an integer for the templates.
func i64[T ~int | ~int32 | ~int64 | ~uint32](n T) string { return strconv.FormatInt(int64(n), 10) }

// num writes n for the page's language (1,234), as counts in messages are.
func num(ctx context.Context, n int64) string { return i18n.From(ctx).Number(n) }

// ifThen picks one of two texts.
func ifThen(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// sentences writes translated sentences one after the other as the page's
// language does: a space between them in English, none in Chinese.
func sentences(ctx context.Context, first string, more ...string) string {
	for _, s := range more {
		first = t(ctx, "{{.A}} {{.B}}", "A", first, "B", s)
	}
	return first
}
