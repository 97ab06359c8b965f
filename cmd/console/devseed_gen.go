package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// seedOperators are the operators synthetic events name; seedUserAgents the
// clients they come from.
var (
	seedOperators  = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	seedUserAgents = []string{"Go-http-client/1.1", "python-requests/2.31.0", "okhttp/4.12.0", "node-fetch/1.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}
)

// seedKinds is the mix of actions, outcomes and actors, per thousand events:
// mostly API issues, as in a console that backend services call.
var seedKinds = []struct {
	perMille int
	action   string
	outcome  string
	actor    string // api_key, operator, anonymous
}{
	{770, "token.issue", store.OutcomeSuccess, store.ActorAPIKey},
	{100, "token.introspect", store.OutcomeSuccess, store.ActorAPIKey},
	{40, "token.revoke", store.OutcomeSuccess, store.ActorAPIKey},
	{30, "authz.denied", store.OutcomeDenied, store.ActorAPIKey},
	{20, "auth.login", store.OutcomeSuccess, store.ActorOperator},
	{12, "auth.login_failed", store.OutcomeDenied, store.ActorAnonymous},
	{10, "auth.logout", store.OutcomeSuccess, store.ActorOperator},
	{5, "token.issue", store.OutcomeError, store.ActorAPIKey},
	{5, "token.revoke_user", store.OutcomeSuccess, store.ActorOperator},
	{3, "project.update", store.OutcomeSuccess, store.ActorOperator},
	{2, "project.secret_rotate", store.OutcomeSuccess, store.ActorOperator},
	{2, "apikey.create", store.OutcomeSuccess, store.ActorOperator},
	{1, "audit.export", store.OutcomeSuccess, store.ActorOperator},
}

// seedGen makes synthetic audit events in time order, deterministically.
type seedGen struct {
	rng    *rand.Rand
	appIDs []uint32
	start  time.Time
	step   time.Duration
}

func newSeedGen(seed uint64, appIDs []uint32, n int, span time.Duration, now time.Time) *seedGen {
	step := span / time.Duration(max(n, 1))
	return &seedGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), appIDs: appIDs, start: now.Add(-span), step: step}
}

// event makes the i-th event; events are made in order i = 0, 1, ….
func (g *seedGen) event(i int) store.SeedEvent {
	r := g.rng
	at := g.start.Add(time.Duration(i) * g.step)
	if g.step > 0 {
		at = at.Add(time.Duration(r.Int64N(int64(g.step))))
	}
	pick := r.IntN(1000)
	kind := seedKinds[0]
	for _, k := range seedKinds {
		if pick < k.perMille {
			kind = k
			break
		}
		pick -= k.perMille
	}
	// The first project is the big one, with about half the events, as in
	// most installations; the others share the rest.
	appID := g.appIDs[0]
	if len(g.appIDs) > 1 && r.IntN(100) >= 52 {
		appID = g.appIDs[1+r.IntN(len(g.appIDs)-1)]
	}
	op := seedOperators[r.IntN(len(seedOperators))]
	e := store.SeedEvent{OccurredAt: at, Action: kind.action, Outcome: kind.outcome, AppID: appID,
		Origin: store.Origin{RequestID: fmt.Sprintf("%016x", r.Uint64()),
			ClientIP:  fmt.Sprintf("198.51.100.%d", 1+r.IntN(254)),
			UserAgent: seedUserAgents[r.IntN(len(seedUserAgents))]}}
	switch kind.actor {
	case store.ActorAPIKey:
		e.Actor = store.Actor{Type: store.ActorAPIKey, ID: fmt.Sprintf("zc_bk%06d", appID%1000000), Name: fmt.Sprintf("backend-%d", appID)}
	case store.ActorOperator:
		e.Actor = store.Actor{Type: store.ActorOperator, ID: strconv.Itoa(2 + r.IntN(len(seedOperators))), Name: op}
		e.Origin.UserAgent = seedUserAgents[len(seedUserAgents)-1]
	default:
		e.Actor = store.Actor{Type: store.ActorAnonymous, Name: op}
	}
	user := "user-" + strconv.Itoa(r.IntN(50000))
	tokenID := g.uuid()
	switch kind.action {
	case "token.issue", "token.introspect", "token.revoke":
		e.TargetType, e.TargetID = "token", tokenID
		fp := make([]byte, 32)
		for j := 0; j < 32; j += 8 {
			v := r.Uint64()
			for k := range 8 {
				fp[j+k] = byte(v >> (8 * k))
			}
		}
		e.TokenFingerprint = fp
		e.Details = g.tokenDetails(kind.action, kind.outcome, tokenID, user, at)
	case "authz.denied":
		e.Details = jsonbText("reason", str("API key lacks scope revoke"), "path", str("/api/v1/projects/"+strconv.Itoa(int(appID))+"/tokens"))
	case "token.revoke_user":
		e.TargetType, e.TargetID = "user", user
		e.Details = jsonbText("user_id", str(user), "revoked", strconv.Itoa(1+r.IntN(5)), "reason", str("offboarded"))
	case "auth.login", "auth.logout", "auth.login_failed":
		e.AppID = 0
		e.Details = jsonbText()
		if kind.action == "auth.login_failed" {
			e.Details = jsonbText("reason", str("bad password"))
		}
	case "project.secret_rotate":
		e.TargetType, e.TargetID = "project", strconv.Itoa(int(appID))
		e.Details = jsonbText("version", strconv.Itoa(2+r.IntN(3)))
	case "apikey.create":
		e.TargetType, e.TargetID = "api_key", fmt.Sprintf("zc_%08d", r.IntN(1e8))
		e.Details = jsonbText("name", str("service-"+strconv.Itoa(r.IntN(100))), "scopes", `["issue", "revoke"]`)
	default:
		e.TargetType, e.TargetID = "project", strconv.Itoa(int(appID))
		e.Details = jsonbText("format", str("csv"))
	}
	return e
}

// tokenDetails are the details of token events, as IssueToken writes them.
func (g *seedGen) tokenDetails(action, outcome, tokenID, user string, at time.Time) string {
	switch {
	case action == "token.introspect":
		return jsonbText("active", "true", "user_id", str(user), "token_id", str(tokenID))
	case action == "token.revoke":
		return jsonbText("reason", str("logout"), "user_id", str(user), "token_id", str(tokenID))
	case outcome == store.OutcomeError:
		return jsonbText("error", str("database unavailable"), "user_id", str(user))
	}
	return jsonbText("mode", str("gcm"), "expire", str(at.Add(time.Hour).UTC().Format(time.RFC3339)),
		"channel", str("api"), "user_id", str(user), "token_id", str(tokenID), "ttl_seconds", "3600", "secret_version", "1")
}

func (g *seedGen) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}

// str is the JSON text of s, which must need no escaping (plain ASCII
// without quotes, backslashes or control characters).
func str(s string) string { return `"` + s + `"` }

// jsonbText renders key, value, … (values already JSON) exactly as
// PostgreSQL prints a jsonb object: keys ordered by length, then bytes.
func jsonbText(kv ...string) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, pair{kv[i], kv[i+1]})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if len(pairs[i].k) != len(pairs[j].k) {
			return len(pairs[i].k) < len(pairs[j].k)
		}
		return pairs[i].k < pairs[j].k
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + p.k + `": ` + p.v)
	}
	b.WriteByte('}')
	return b.String()
}
