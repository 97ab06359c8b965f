package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// allAPIScopes are every scope an API key can have.
var allAPIScopes = []string{store.ScopeIssue, store.ScopeRevoke, store.ScopeIntrospect, store.ScopeAuditRead, store.ScopeRevocationsRead}

// apiEnv is a console for API tests. Every response it receives is checked
// against the OpenAPI document, and when the test ends the server's logs are
// searched for every API key, token and secret the test saw.
type apiEnv struct {
	*webtest.Env
	mu      sync.Mutex
	secrets []string
}

// newAPIEnv starts a console for API tests.
func newAPIEnv(t *testing.T, mods ...func(*web.Config)) *apiEnv {
	t.Helper()
	a := &apiEnv{Env: webtest.NewEnv(t, mods...), secrets: []string{webtest.TestSecret}}
	t.Cleanup(func() {
		logs := a.Logs.String()
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("server logs contain a secret, key or token (%.12s…)", s)
			}
		}
	})
	return a
}

// remember adds s to what must never appear in the logs.
func (a *apiEnv) remember(s string) {
	a.mu.Lock()
	a.secrets = append(a.secrets, s)
	a.mu.Unlock()
}

// key creates an API key, remembered as a secret.
func (a *apiEnv) key(t *testing.T, scopes []string, appIDs ...uint32) string {
	t.Helper()
	k := a.APIKey(t, scopes, appIDs...)
	a.remember(k)
	return k
}

// otherSecret is the ServerSecret of projects made by createProjectWithOtherSecret.
const otherSecret = "fedcba9876543210fedcba9876543210"

// createProjectWithOtherSecret adds a project like createProject's, with otherSecret.
func (a *apiEnv) createProjectWithOtherSecret(t *testing.T, appID uint32) {
	t.Helper()
	a.remember(otherSecret)
	if _, err := a.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Other", AppID: appID, Environment: "prod",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}, []byte(otherSecret), webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatalf("create project: %v", err)
	}
}

// apiResponse is a response with its body read.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the JSON body into v.
func (r apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response body %q: %v", r.body, err)
	}
}

// problem returns the body as a problem, failing unless it is one.
func (r apiResponse) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("got Content-Type %q (status %d, body %s), want application/problem+json", ct, r.status, r.body)
	}
	var p api.Problem
	r.decode(t, &p)
	if p.Status != r.status {
		t.Fatalf("problem status %d differs from response status %d", p.Status, r.status)
	}
	return p
}

// wantProblem checks the status and problem type slug.
func (r apiResponse) wantProblem(t *testing.T, status int, slug string) api.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d (%s), want %d", r.status, r.body, status)
	}
	p := r.problem(t)
	if want := "urn:zego-console:problem:" + slug; p.Type != want {
		t.Fatalf("got problem type %q (%s), want %q", p.Type, p.Detail, want)
	}
	return p
}

// call sends a request with the key (none when ""), a raw body and its
// Content-Type, then validates the response against the OpenAPI document.
func (a *apiEnv) call(t *testing.T, method, path, key, contentType string, body []byte) apiResponse {
	t.Helper()
	return a.callWith(t, method, path, key, contentType, body, nil)
}

// callWith is call with extra request headers.
func (a *apiEnv) callWith(t *testing.T, method, path, key, contentType string, body []byte, header http.Header) apiResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, a.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainstOpenAPI(t, req, res, data)
	return apiResponse{status: res.StatusCode, header: res.Header, body: data}
}

// post sends v as a JSON body.
func (a *apiEnv) post(t *testing.T, path, key string, v any) apiResponse {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return a.call(t, http.MethodPost, path, key, "application/json", b)
}

// get sends a GET request.
func (a *apiEnv) get(t *testing.T, path, key string) apiResponse {
	t.Helper()
	return a.call(t, http.MethodGet, path, key, "", nil)
}

// openAPI is the document and a router over it, loaded once.
var openAPI = sync.OnceValues(func() (*openapi3.T, routers.Router) {
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.json")
	if err != nil {
		panic(err)
	}
	doc.Servers = nil // "/" does not match the test server's absolute URLs
	// Streamed bodies are documented as binary strings.
	for _, ct := range []string{"text/event-stream", "application/x-ndjson"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		panic(err)
	}
	return doc, router
})

// validateAgainstOpenAPI checks a response of a documented route against
// the document: status documented, headers and body matching. Responses of
// undocumented paths must still be problems. Export and feed bodies are streams, whose
// lines tests check one by one.
func validateAgainstOpenAPI(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	doc, router := openAPI()
	route, params, err := router.FindRoute(req)
	if err == nil && strings.Count(route.Path, "/") != strings.Count(req.URL.Path, "/") {
		err = errors.New("kin-openapi ignores a trailing slash; the console does not")
	}
	if err != nil {
		if res.StatusCode >= 400 {
			validateProblemBody(t, doc, res, body)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			ExcludeResponseBody: (route.Operation.OperationID == "exportAudit" || route.Operation.OperationID == "listRevocations") && res.StatusCode == http.StatusOK},
	}
	if err := openapi3filter.ValidateResponse(t.Context(), in); err != nil {
		t.Errorf("%s %s → %d does not match the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
}

// validateProblemBody checks a body against the Problem schema.
func validateProblemBody(t *testing.T, doc *openapi3.T, res *http.Response, body []byte) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%d response has Content-Type %q, want application/problem+json", res.StatusCode, ct)
		return
	}
	validateSchema(t, doc, "Problem", body)
}

// validateSchema checks a JSON value against a component schema.
func validateSchema(t *testing.T, doc *openapi3.T, name string, data []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Errorf("%s: not JSON: %v: %.200s", name, err, data)
		return
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%.200s does not match schema %s: %v", data, name, err)
	}
}

// events returns the audit events with action, oldest first.
func (a *apiEnv) events(t *testing.T, action string) []store.AuditEvent {
	t.Helper()
	var out []store.AuditEvent
	if err := a.Store.ExportAudit(t.Context(), store.AuditFilter{Action: action}, 0, func(e store.AuditEvent) error {
		out = append([]store.AuditEvent{e}, out...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
