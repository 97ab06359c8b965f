package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestChinese_AuditAndSinkPagesExplainRefusalsInChinese(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", store.RoleAdmin)

	status, body := e.Get(t, admin, "/audit?q=ab&from=2021-01-01&to=2020-01-01&lang=zh-Hans")
	expectStatus(t, "a refused filter", status, http.StatusBadRequest, body)
	expectIn(t, "a refused filter", body, "未应用筛选条件：q：请至少输入 3 个字符进行搜索；to：必须晚于 from", "审计记录")
	expectNotIn(t, "a refused filter", body, "The filter was not applied", "search for at least 3 characters")

	res, body := e.Post(t, admin, "/audit/sinks", url.Values{"name": {"siem"}, "kind": {"webhook"}, "url": {"https://127.0.0.1/c"},
		"headers": {"webhook-id: 1"}})
	expectStatus(t, "a refused sink", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "a refused sink", body, "未添加投递目标", "目标地址被拒绝：127.0.0.1 是环回地址或私有地址", "webhook-id 由控制台设置")
	expectNotIn(t, "a refused sink", body, "allow private ranges", "is set by the console")

	status, body = e.Get(t, admin, "/audit/export?format=xml")
	expectStatus(t, "a bad export format", status, http.StatusBadRequest, body)
	expectIn(t, "a bad export format", body, "导出格式无效", "请选择 CSV 或 NDJSON")
}

func TestAuditPage_TheLastVerificationReadsAsOneSentenceInBothLanguages(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	e.SealAudit(t)
	if res, body := e.Post(t, admin, "/audit/verify", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("verify: %d\n%.500s", res.StatusCode, body)
	}
	for lang, want := range map[string]*regexp.Regexp{
		"en":      regexp.MustCompile(`verified <span><time [^>]+>[^<]+</time></span>: \d+ events verified \(seq 1\.\.\d+\), \d+ signed checkpoints`),
		"zh-Hans": regexp.MustCompile(`校验于 <span><time [^>]+>[^<]+</time></span>： 已校验 \d+ 个事件（seq 1\.\.\d+），\d+ 个签名检查点`),
	} {
		_, body := e.Get(t, admin, "/audit?lang="+lang)
		if !want.MatchString(body) {
			t.Errorf("%s: the integrity panel does not read %s:\n%s", lang, want, between(t, body, `data-testid="audit-integrity"`, "</section>"))
		}
	}
}
