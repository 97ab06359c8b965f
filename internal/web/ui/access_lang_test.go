package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// chinese is what a browser set to Chinese sends.
var chinese = http.Header{"Accept-Language": {"zh-CN,zh;q=0.9,en;q=0.8"}}

func TestSignIn_AChineseBrowserGetsTheFormAndItsRefusalsInChinese(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "tina", store.RoleOperator)
	b := e.Browser(t)

	res, page := e.Fetch(t, b, "/login", chinese)
	expectStatus(t, "sign-in page", res.StatusCode, http.StatusOK, page)
	expectIn(t, "sign-in page", page, `<h1>登录</h1>`, "用户名", "密码", "忘记密码？")
	expectNotIn(t, "sign-in page", page, "Username", "Forgot your password?")

	res, page = e.SendForm(t, b, "/login", url.Values{"username": {"tina"}, "password": {"not her password"}}, chinese)
	expectStatus(t, "a wrong password", res.StatusCode, http.StatusUnauthorized, page)
	expectIn(t, "a wrong password", page, "用户名或密码错误。")
	expectNotIn(t, "a wrong password", page, "Wrong username or password.")
}

func TestPeople_PagesOfPeopleKeysAndOnesAccountSpeakChineseOnceChosen(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1234567890)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	auditor := e.SignIn(t, "audrey", store.RoleAuditor)
	for _, c := range []*http.Client{admin, auditor} {
		if status, page := e.Get(t, c, "/account?lang=zh-Hans"); status != http.StatusOK {
			t.Fatalf("choosing Chinese: got %d, want 200\n%.1000s", status, page)
		}
	}

	_, page := e.Get(t, admin, "/operators")
	expectIn(t, "people", page, "审计员：只读（令牌、审计记录、导出）", "添加人员", "停用 audrey？其会话将立即结束，且无法再登录。")
	_, page = e.Get(t, admin, "/apikeys")
	expectIn(t, "API keys", page, "还没有 API 密钥。", "90 天后", "为所选项目签发令牌")
	_, page = e.Get(t, admin, "/account")
	expectIn(t, "my account", page, "在你上次验证超过 5 分钟后会再次要求验证。", "当前会话")

	status, page := e.Get(t, auditor, "/issue")
	expectStatus(t, "an auditor on the issue page", status, http.StatusForbidden, page)
	expectIn(t, "an auditor on the issue page", page, "你的角色（审计员）无权执行此操作。如有需要，请联系管理员。")
}
