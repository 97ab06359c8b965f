package ui

import (
	"context"
	"strconv"
	"strings"
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

// thousands writes n with a comma between groups of three digits: 1,234.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

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
