package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// openAPIDocument is the hand-written OpenAPI 3.1 description of /api/v1;
// a test keeps it and routes.go in step.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the OpenAPI document.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
}

// notFound answers every other request under /api/: 405 with an Allow
// header when the path is an API route reached with another method, else 404.
// The routes are read from the OpenAPI document, which a test proves equal
// to routes.go.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if allowed := allowedMethods(r.URL.EscapedPath()); len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.problem(w, r, http.StatusMethodNotAllowed, "method-not-allowed",
			"This route does not take "+r.Method+"; it takes "+strings.Join(allowed, ", ")+".", nil)
		return
	}
	s.problem(w, r, http.StatusNotFound, "not-found", "There is no API route here; see /api/v1/openapi.json.", nil)
}

// documentedRoute is a documented path template split into segments, and its methods.
type documentedRoute struct {
	segments []string
	methods  []string
}

// documentedRoutes parses the paths of the embedded document once.
var documentedRoutes = sync.OnceValue(func() []documentedRoute {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		panic("web: embedded openapi.json: " + err.Error()) // caught by the tests
	}
	var routes []documentedRoute
	for path, item := range doc.Paths {
		rt := documentedRoute{segments: strings.Split(path, "/")}
		for _, m := range []string{"get", "put", "post", "delete", "patch"} {
			if _, ok := item[m]; ok {
				rt.methods = append(rt.methods, strings.ToUpper(m))
				if m == "get" {
					rt.methods = append(rt.methods, http.MethodHead)
				}
			}
		}
		routes = append(routes, rt)
	}
	return routes
})

// allowedMethods lists the methods of the API route path matches, if any.
func allowedMethods(path string) []string {
	segments := strings.Split(path, "/")
	for _, rt := range documentedRoutes() {
		if slices.EqualFunc(rt.segments, segments, segmentMatches) {
			return rt.methods
		}
	}
	return nil
}

// segmentMatches tells whether a path segment fits a template segment:
// equal, or any non-empty segment for a {parameter}.
func segmentMatches(template, segment string) bool {
	if strings.HasPrefix(template, "{") && strings.HasSuffix(template, "}") {
		return segment != ""
	}
	return template == segment
}
