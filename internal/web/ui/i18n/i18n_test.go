package i18n

import (
	"context"
	"testing"
)

func TestMatch_ChineseInAnyFormGetsSimplifiedChineseAndTheRestEnglish(t *testing.T) {
	for header, want := range map[string]string{
		"":                           "en",
		"zh-CN,zh;q=0.9,en;q=0.8":    "zh-Hans",
		"zh":                         "zh-Hans",
		"zh-SG":                      "zh-Hans",
		"zh-Hans":                    "zh-Hans",
		"zh-TW,zh;q=0.9":             "zh-Hans",
		"zh-HK":                      "zh-Hans",
		"en-US,en;q=0.9,zh-CN;q=0.8": "en",
		"fr-FR,zh-CN;q=0.5":          "zh-Hans",
		"de-DE,fr;q=0.8":             "en",
		"en;q=0.1,zh;q=0.9":          "zh-Hans",
		"not a header \xff":          "en",
		"*":                          "en",
	} {
		if got := Match(header).String(); got != want {
			t.Errorf("Accept-Language %q: got %s, want %s", header, got, want)
		}
	}
}

func TestT_FillsPlaceholdersAndCountsInTheLanguage(t *testing.T) {
	zh := With(context.Background(), New(Chinese))
	en := With(context.Background(), New(English))
	if got := T(en, "request {{.ID}}", "ID", "r-1"); got != "request r-1" {
		t.Errorf("en: got %q", got)
	}
	if got := T(zh, "request {{.ID}}", "ID", "r-1"); got != "请求 r-1" {
		t.Errorf("zh-Hans: got %q", got)
	}
	if got := N(en, "{{.Count}} events", 1); got != "1 event" {
		t.Errorf("en one: got %q", got)
	}
	if got := N(en, "{{.Count}} events", 1234); got != "1,234 events" {
		t.Errorf("en other: got %q", got)
	}
	if got := N(zh, "{{.Count}} events", 1234); got != "1,234 个事件" {
		t.Errorf("zh-Hans: got %q", got)
	}
	if got := T(zh, "a text no catalog has, {{.X}}", "X", 1); got != "a text no catalog has, 1" {
		t.Errorf("unknown id: got %q", got)
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("zh-CN,zh;q=0.9")
	f.Add("en;q=0.5,*;q=0.1")
	f.Fuzz(func(t *testing.T, h string) {
		if got := Match(h); got != English && got != Chinese {
			t.Fatalf("Match(%q) = %v", h, got)
		}
	})
}
