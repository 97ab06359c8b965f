package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// langOf is a page's language as its answer says it: the Content-Language
// header and the html element's lang attribute, which must agree.
func langOf(t *testing.T, res *http.Response, body string) string {
	t.Helper()
	got := res.Header.Get("Content-Language")
	if !strings.Contains(body, `<html lang="`+got+`"`) {
		t.Errorf("Content-Language %q, but the page's html element is %q", got, body[:min(len(body), 80)])
	}
	if vary := strings.Join(res.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept-Language") || !strings.Contains(vary, "Cookie") {
		t.Errorf("Vary %q: a cache would give one person's language to another", vary)
	}
	return got
}

func TestLanguage_TheBrowsersChineseGetsSimplifiedChineseAndAnythingElseEnglish(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	for header, want := range map[string]string{
		"":                           "en",
		"zh-CN,zh;q=0.9,en;q=0.8":    "zh-Hans",
		"zh-TW,zh;q=0.9":             "zh-Hans",
		"en-GB,en;q=0.9,zh-CN;q=0.5": "en",
		"fr-FR":                      "en",
	} {
		res, body := e.Fetch(t, e.Browser(t), "/login", http.Header{"Accept-Language": {header}})
		if got := langOf(t, res, body); got != want {
			t.Errorf("Accept-Language %q: the sign-in page is in %q, want %q", header, got, want)
		}
	}
	res, body := e.Fetch(t, e.Browser(t), "/login", http.Header{"Accept-Language": {"zh-CN"}})
	langOf(t, res, body)
	requireInBody(t, body, `<title>`, "ZEGO 令牌控制台", `lang="en" hreflang="en" data-testid="lang-en">English</a>`)
}

func TestLanguage_ThePersonsChoiceIsRememberedAndBeatsTheBrowser(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "otto", store.RoleOperator)
	chinese := http.Header{"Accept-Language": {"zh-CN,zh;q=0.9"}}

	res, body := e.Fetch(t, c, "/projects", chinese)
	if got := langOf(t, res, body); got != "zh-Hans" {
		t.Fatalf("before any choice: %q, want the browser's zh-Hans", got)
	}
	requireInBody(t, body, `data-testid="nav-projects">项目</a>`, `data-testid="logout">退出登录</button>`, `data-testid="lang-zh-Hans">简体中文</span>`)

	res, body = e.Fetch(t, c, "/projects?lang=en", chinese)
	if got := langOf(t, res, body); got != "en" {
		t.Fatalf("after choosing English: %q, want en", got)
	}
	res, body = e.Fetch(t, c, "/tokens", chinese)
	if got := langOf(t, res, body); got != "en" {
		t.Fatalf("the next page after choosing English: %q, want en (remembered)", got)
	}
	requireInBody(t, body, `data-testid="nav-projects">Projects</a>`, `href="/tokens?lang=zh-Hans"`)

	// A language the UI does not have changes nothing.
	res, body = e.Fetch(t, c, "/tokens?lang=xx", chinese)
	if got := langOf(t, res, body); got != "en" {
		t.Errorf("?lang=xx: %q, want the remembered en", got)
	}
}

func TestLanguage_ErrorPagesAreTranslatedAndTheAPIStaysEnglish(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "otto", store.RoleOperator)
	res, body := e.Fetch(t, c, "/projects/99", http.Header{"Accept-Language": {"zh-CN"}})
	expectStatus(t, "a missing project", res.StatusCode, http.StatusNotFound, body)
	requireInBody(t, body, "未找到项目", "没有这个项目，它可能已被删除。", "返回概览")

	e.CreateProject(t, 1001)
	key := e.APIKey(t, []string{store.ScopeIssue}, 1001)
	res, body = e.Fetch(t, e.Browser(t), "/api/v1/projects/99/tokens", http.Header{"Accept-Language": {"zh-CN"}, "Authorization": {"Bearer " + key}})
	if res.StatusCode < 400 || !strings.Contains(body, `"title"`) || strings.ContainsFunc(body, func(r rune) bool { return r > 0x2E7F }) {
		t.Errorf("API with Accept-Language zh-CN: %d %s; want an English problem", res.StatusCode, body)
	}
	if cl := res.Header.Get("Content-Language"); cl != "" {
		t.Errorf("API answer has Content-Language %q; the API speaks English only and says nothing", cl)
	}
}
