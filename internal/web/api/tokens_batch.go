package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// ndjson is the media type of a batch answered one token per line.
const ndjson = "application/x-ndjson"

// batchIssueRequest is the body of POST /api/v1/projects/{appId}/tokens/batch:
// the tokens to issue, each as the body of a single issue.
type batchIssueRequest struct {
	Tokens []json.RawMessage `json:"tokens"`
}

// batchIssuedJSON is the answer to a batch: the tokens in the order asked.
type batchIssuedJSON struct {
	Tokens []issuedTokenJSON `json:"tokens"`
}

// tokenIssueBatch issues up to store.MaxBatchTokens tokens in one
// transaction, all or none, each with its record and token.issue event,
// through the store's one issuing path; answered as JSON, or as NDJSON (one
// token per line) when the client accepts it.
func (s *Server) tokenIssueBatch(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r, store.ScopeIssue)
	if !ok {
		return
	}
	items, ok := s.decodeBatch(w, r)
	if !ok {
		return
	}
	idem, ok := s.idempotency(w, r, struct {
		Tokens []issueRequest `json:"tokens"`
	}{items}, appID)
	if !ok {
		return
	}
	reqs := make([]store.IssueRequest, len(items))
	for i, in := range items {
		reqs[i] = in.storeRequest(appID)
		reqs[i].Channel, reqs[i].Actor, reqs[i].Origin = store.ChannelAPI, web.Actor(r), s.Origin(r)
	}
	answer := func(issued []store.IssuedToken) (store.Answer, error) {
		out := batchIssuedJSON{Tokens: make([]issuedTokenJSON, len(issued))}
		for i, it := range issued {
			out.Tokens[i] = issuedTokenJSON{tokenJSON: tokenJSONOf(it.Record), Token: it.Token}
		}
		return jsonAnswer(http.StatusCreated, "", out)
	}
	var a store.Answer
	var err error
	replayed := false
	if idem != nil {
		a, replayed, err = s.Store.IssueTokensOnce(r.Context(), reqs, *idem, answer)
	} else {
		var issued []store.IssuedToken
		if issued, err = s.Store.IssueTokens(r.Context(), reqs); err == nil {
			a, err = answer(issued)
		}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if acceptsNDJSON(r) {
		writeNDJSONAnswer(w, a, replayed)
		return
	}
	writeAnswer(w, a, replayed)
}

// decodeBatch reads a batch body strictly, each token as strictly as the
// body of a single issue; a field at fault is named by its token's index,
// tokens[i].field, and every one is reported at once.
func (s *Server) decodeBatch(w http.ResponseWriter, r *http.Request) ([]issueRequest, bool) {
	var body batchIssueRequest
	if !s.decodeUpTo(w, r, &body, false, web.MaxBatchBodyBytes) {
		return nil, false
	}
	items := make([]issueRequest, len(body.Tokens))
	var problems fieldProblems
	for i, raw := range body.Tokens {
		at := "tokens[" + strconv.Itoa(i) + "]"
		bad := decodeObjectFields(raw, reflect.ValueOf(&items[i]).Elem())
		switch {
		case bad == nil:
		case bad.fields == nil:
			problems.add(bad.slug, at, "must be an object with the fields of a single issue")
		default:
			for field, reason := range bad.fields {
				problems.add(bad.slug, at+"."+field, reason)
			}
		}
	}
	if bad := problems.err(); bad != nil {
		s.problem(w, r, bad.status, bad.slug, bad.detail, bad.fields)
		return nil, false
	}
	return items, true
}

// acceptsNDJSON tells whether the client asked for NDJSON.
func acceptsNDJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == ndjson && params["q"] != "0" && params["q"] != "0.0" {
			return true
		}
	}
	return false
}

// writeNDJSONAnswer writes a batch's kept JSON answer as NDJSON: one token
// per line, in the same order.
func writeNDJSONAnswer(w http.ResponseWriter, a store.Answer, replayed bool) {
	var kept struct {
		Tokens []json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal(a.Body, &kept); err != nil { // the console's own answer: always a batch
		writeAnswer(w, a, replayed)
		return
	}
	var b bytes.Buffer
	for _, t := range kept.Tokens {
		b.Write(t)
		b.WriteByte('\n')
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", strconv.FormatBool(true))
	}
	w.Header().Set("Content-Type", ndjson)
	w.WriteHeader(a.Status)
	_, _ = w.Write(b.Bytes())
}
