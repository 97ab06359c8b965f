// Package i18n is the UI's languages: English and Simplified Chinese
// (zh-Hans), each a set of message catalogs embedded in the binary
// (locales/<area>.<lang>.json, read by go-i18n), the choice of language for
// a request, and numbers and dates written for it.
//
// A message's id is its English text, as in gettext: templates read
// t(ctx, "Projects"), and a text that comes from a table elsewhere (the
// error table, the notices, ZEGO's error codes) is looked up by its English
// words when the page is written. Placeholders are go-i18n's: {{.Name}}.
// Every id is in every language's catalog with the same placeholders; the
// package's tests fail otherwise, and when the UI uses a text no catalog
// has.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The languages of the UI, English first (the fallback).
var (
	English = language.English
	Chinese = language.MustParse("zh-Hans")
)

// Supported lists the UI's languages in the order the language switch shows them.
var Supported = []language.Tag{English, Chinese}

//go:embed locales/*.json
var catalogs embed.FS

// bundle is every catalog, read once. The catalogs are part of the binary,
// and a test reads them all, so an error here is a build mistake.
var bundle = sync.OnceValues(func() (*i18n.Bundle, error) {
	b := i18n.NewBundle(English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(catalogs, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(catalogs, f); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
	}
	return b, nil
})

// Lang is the language a page is written in.
type Lang struct {
	Tag   language.Tag
	loc   *i18n.Localizer
	print *message.Printer
}

// New is the language tag (one of Supported) with its catalogs.
func New(tag language.Tag) Lang {
	if tag != Chinese {
		tag = English
	}
	l := Lang{Tag: tag, print: message.NewPrinter(tag)}
	if b, err := bundle(); err == nil {
		l.loc = i18n.NewLocalizer(b, tag.String())
	}
	return l
}

// Parse reads a language the person chose ("en", "zh-Hans"); ok is false
// for anything else.
func Parse(s string) (language.Tag, bool) {
	for _, t := range Supported {
		if s == t.String() {
			return t, true
		}
	}
	return English, false
}

// Match picks the language for an Accept-Language header: the first
// language the browser lists (by preference) that the UI has. Chinese in
// any form gets Simplified Chinese: zh, zh-CN, zh-SG and zh-Hans, and also
// zh-TW, zh-HK and zh-Hant, whose readers read Simplified Chinese more
// easily than English (the switch in the footer offers English in one
// click, and remembers it). Anything else, or nothing, gets English.
func Match(acceptLanguage string) language.Tag {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return English
	}
	for _, t := range tags {
		switch base, _ := t.Base(); base.String() {
		case "zh":
			return Chinese
		case "en":
			return English
		}
	}
	return English
}

type ctxKey struct{}

// With puts the page's language into ctx.
func With(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From is the page's language: English when ctx carries none.
func From(ctx context.Context) Lang {
	if l, ok := ctx.Value(ctxKey{}).(Lang); ok {
		return l
	}
	return New(English)
}

// T is the message id in the page's language, its placeholders filled from
// args, which are pairs of a placeholder's name and its value. An id no
// catalog has is shown as it is (English).
func T(ctx context.Context, id string, args ...any) string {
	return From(ctx).localize(id, nil, args)
}

// N is T for a message about a count: the form for count in the page's
// language (English: one/other), with {{.Count}} the count written for the
// language.
func N(ctx context.Context, id string, count int64, args ...any) string {
	return From(ctx).localize(id, count, args)
}

func (l Lang) localize(id string, count any, args []any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	if count != nil {
		data["Count"] = l.Number(count.(int64))
	}
	if l.loc == nil {
		return fill(id, data)
	}
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil || s == "" {
		return fill(id, data)
	}
	return s
}

// fill writes data into an id no catalog has, so that a page still reads.
func fill(id string, data map[string]any) string {
	for k, v := range data {
		id = strings.ReplaceAll(id, "{{."+k+"}}", fmt.Sprint(v))
	}
	return id
}

// Number writes n for the language (1,234 in both).
func (l Lang) Number(n int64) string {
	return l.print.Sprintf("%d", n)
}

// HTMLLang is the page's lang attribute: en or zh-Hans.
func (l Lang) HTMLLang() string { return l.Tag.String() }

// Name is a language's name in itself, for the language switch.
func Name(tag language.Tag) string {
	if tag == Chinese {
		return "简体中文"
	}
	return "English"
}

// Has tells whether the catalogs have id (in every language: a test keeps
// them in step).
func Has(id string) bool {
	b, err := bundle()
	if err != nil {
		return false
	}
	_, err = i18n.NewLocalizer(b, English.String()).Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: 2})
	var missing *i18n.MessageNotFoundErr
	return !errors.As(err, &missing)
}
