package ui

import (
	"context"
	"regexp"
)

// readBacks are English message ids with placeholders ({{.Max}}), each
// with a pattern that matches the text its English words make with any
// values: a text another package wrote in English with numbers or names in
// it (a field message, the store's account of a broken chain) is read back
// and shown in the page's language.
type readBacks []readBackID

type readBackID struct {
	id string
	re *regexp.Regexp
}

// placeholderRe is a placeholder of an id, as regexp.QuoteMeta writes it.
var placeholderRe = regexp.MustCompile(`\\\{\\\{\\\.(\w+)\\\}\\\}`)

// readBack makes the patterns of ids; each placeholder matches any text.
func readBack(ids ...string) readBacks {
	out := make(readBacks, len(ids))
	for i, id := range ids {
		out[i] = readBackID{id: id, re: regexp.MustCompile("^" + placeholderRe.ReplaceAllString(regexp.QuoteMeta(id), `(?P<$1>.+?)`) + "$")}
	}
	return out
}

// text writes msg in the page's language when one of the ids matches it,
// else as it is.
func (rb readBacks) text(ctx context.Context, msg string) string {
	for _, b := range rb {
		m := b.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		args := make([]any, 0, 2*(len(m)-1))
		for i, name := range b.re.SubexpNames()[1:] {
			args = append(args, name, m[i+1])
		}
		return t(ctx, b.id, args...)
	}
	return msg
}
