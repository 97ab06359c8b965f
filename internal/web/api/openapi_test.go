package api_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestOpenAPI_DocumentLoadsAndValidates(t *testing.T) {
	t.Parallel()
	doc, _ := openAPI()
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("got openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
}

// apiRoutePattern finds the API routes registered in routes.go, such as
// mux.Handle("POST /api/v1/tokens/revoke", ...).
var apiRoutePattern = regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/api/v1/[^"]*)"`)

func TestOpenAPI_DocumentsExactlyTheRoutesOfRoutesGo(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var inRoutes []string
	for _, m := range apiRoutePattern.FindAllStringSubmatch(string(src), -1) {
		inRoutes = append(inRoutes, m[1]+" "+m[2])
	}
	if len(inRoutes) < 9 {
		t.Fatalf("found %d API routes in routes.go, want at least 9: has its style changed? %v", len(inRoutes), inRoutes)
	}
	doc, _ := openAPI()
	var inDoc []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc = append(inDoc, method+" "+path)
		}
	}
	slices.Sort(inRoutes)
	slices.Sort(inDoc)
	for _, r := range inRoutes {
		if !slices.Contains(inDoc, r) {
			t.Errorf("route %q is in routes.go but not in openapi.json", r)
		}
	}
	for _, r := range inDoc {
		if !slices.Contains(inRoutes, r) {
			t.Errorf("operation %q is in openapi.json but not in routes.go", r)
		}
	}
}

func TestOpenAPI_EveryOperationHasIDSummaryAndProblemResponses(t *testing.T) {
	t.Parallel()
	doc, _ := openAPI()
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: want an operationId and a summary", method, path)
			}
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public: the document itself
			}
			for _, status := range []int{401, 429, 500, 503} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s %s: response %d is not documented", method, path, status)
				}
			}
		}
	}
}

func TestOpenAPI_ServedDocumentIsTheEmbeddedFile(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	res := a.get(t, "/api/v1/openapi.json", "")
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.status != http.StatusOK || !bytes.Equal(res.body, want) {
		t.Fatalf("got status %d and %d bytes, want 200 and the %d bytes of openapi.json", res.status, len(res.body), len(want))
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("got Content-Type %q, want application/json", ct)
	}
	if _, err := openapi3.NewLoader().LoadFromData(res.body); err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
}

func TestAPIProblem_UnknownRouteIs404AndWrongMethodIs405(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	for _, tc := range []struct {
		method, path string
		status       int
		slug, allow  string
	}{
		{"GET", "/api/v1/nothing", 404, "not-found", ""},
		{"GET", "/api/v2/projects", 404, "not-found", ""},
		{"GET", "/api/v1/projects/", 404, "not-found", ""},
		{"POST", "/api/v1/projects", 405, "method-not-allowed", "GET, HEAD"},
		{"DELETE", "/api/v1/projects/1001/tokens", 405, "method-not-allowed", "POST"},
		{"GET", "/api/v1/tokens/introspect", 405, "method-not-allowed", "POST"},
		{"PUT", "/api/v1/projects/1001/users/alice/revoke", 405, "method-not-allowed", "POST"},
		{"POST", "/api/v1/openapi.json", 405, "method-not-allowed", "GET, HEAD"},
	} {
		res := a.call(t, tc.method, tc.path, key, "application/json", []byte("{}"))
		p := res.wantProblem(t, tc.status, tc.slug)
		if got := res.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: got Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if p.Instance != tc.path || p.RequestID == "" || p.RequestID != res.header.Get("X-Request-Id") {
			t.Errorf("%s %s: got instance %q and request id %q, want the path and the X-Request-Id", tc.method, tc.path, p.Instance, p.RequestID)
		}
		if !strings.Contains(res.header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s %s: got Cache-Control %q, want no-store", tc.method, tc.path, res.header.Get("Cache-Control"))
		}
	}
}
