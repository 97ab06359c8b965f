package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// seedOperators are the operators synthetic events name; seedUserAgents the
// clients they come from.
var (
	seedOperators  = [...]string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	seedUserAgents = [...]string{"Go-http-client/1.1", "python-requests/2.31.0", "okhttp/4.12.0", "node-fetch/1.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}
)

// seedKinds is the mix of actions, outcomes and actors, per thousand events:
// mostly API issues, as in a console that backend services call.
var seedKinds = [...]struct {
	perMille int
	action   string
	outcome  string
	actor    string // api_key, operator, anonymous
}{
	{770, "token.issue", OutcomeSuccess, ActorAPIKey},
	{100, "token.introspect", OutcomeSuccess, ActorAPIKey},
	{40, "token.revoke", OutcomeSuccess, ActorAPIKey},
	{30, "authz.denied", OutcomeDenied, ActorAPIKey},
	{20, "auth.login", OutcomeSuccess, ActorOperator},
	{12, "auth.login_failed", OutcomeDenied, ActorAnonymous},
	{10, "auth.logout", OutcomeSuccess, ActorOperator},
	{5, "token.issue", OutcomeError, ActorAPIKey},
	{5, "token.revoke_user", OutcomeSuccess, ActorOperator},
	{3, "project.update", OutcomeSuccess, ActorOperator},
	{2, "project.secret_rotate", OutcomeSuccess, ActorOperator},
	{2, "apikey.create", OutcomeSuccess, ActorOperator},
	{1, "audit.export", OutcomeSuccess, ActorOperator},
}

// seedTokenTTL is the lifetime of the tokens synthetic issues describe.
const seedTokenTTL = time.Hour

// SeedGenerator makes synthetic audit events in time order,
// deterministically: the same seed makes the same events. Its token.issue
// events are built as IssueToken builds them.
type SeedGenerator struct {
	rng    *mathrand.Rand
	appIDs []uint32
	start  time.Time
	step   time.Duration
}

// NewSeedGenerator makes a generator of n events about the projects appIDs
// (the first gets about half of them), spread over span up to now.
func NewSeedGenerator(seed uint64, appIDs []uint32, n int, span time.Duration, now time.Time) *SeedGenerator {
	step := span / time.Duration(max(n, 1))
	return &SeedGenerator{rng: mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), appIDs: appIDs,
		start: now.Add(-span), step: step}
}

// Event makes the i-th event; call it in order i = 0, 1, …, as
// SeedAuditEvents does.
func (g *SeedGenerator) Event(i int) SeedEvent {
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
	e := Event{Action: kind.action, Outcome: kind.outcome, AppID: appID,
		Origin: Origin{RequestID: fmt.Sprintf("%016x", r.Uint64()),
			ClientIP:  fmt.Sprintf("198.51.100.%d", 1+r.IntN(254)),
			UserAgent: seedUserAgents[r.IntN(len(seedUserAgents))]}}
	switch kind.actor {
	case ActorAPIKey:
		e.Actor = Actor{Type: ActorAPIKey, ID: fmt.Sprintf("zc_bk%06d", appID%1000000), Name: fmt.Sprintf("backend-%d", appID)}
	case ActorOperator:
		e.Actor = Actor{Type: ActorOperator, ID: strconv.Itoa(2 + r.IntN(len(seedOperators))), Name: op}
		e.Origin.UserAgent = seedUserAgents[len(seedUserAgents)-1]
	default:
		e.Actor = Actor{Type: ActorAnonymous, Name: op}
	}
	user := "user-" + strconv.Itoa(r.IntN(50000))
	tokenID := g.uuid()
	switch kind.action {
	case "token.issue", "token.introspect", "token.revoke":
		e.TargetType, e.TargetID, e.TokenFingerprint = "token", tokenID, g.fingerprint()
		if kind.action == "token.issue" && kind.outcome == OutcomeSuccess {
			_, e = tokenIssue{id: tokenID, project: Project{AppID: int64(appID), SecretVersion: 1}, userID: user,
				ctime: at.Truncate(time.Second), ttl: seedTokenTTL, fingerprint: e.TokenFingerprint,
				mode: token04.ModeGCM, channel: ChannelAPI, actor: e.Actor, origin: e.Origin}.recordAndEvent()
		} else {
			e.Details = seedTokenDetails(kind.action, tokenID, user)
		}
	case "authz.denied":
		e.Details = map[string]any{"reason": "API key lacks scope revoke", "path": "/api/v1/projects/" + strconv.Itoa(int(appID)) + "/tokens"}
	case "token.revoke_user":
		e.TargetType, e.TargetID = "user", user
		e.Details = map[string]any{"user_id": user, "revoked": 1 + r.IntN(5), "reason": "offboarded"}
	case "auth.login", "auth.logout", "auth.login_failed":
		e.AppID = 0
		if kind.action == "auth.login_failed" {
			e.Details = map[string]any{"reason": "bad password"}
		}
	case "project.secret_rotate":
		e.TargetType, e.TargetID = "project", strconv.Itoa(int(appID))
		e.Details = map[string]any{"version": 2 + r.IntN(3)}
	case "apikey.create":
		e.TargetType, e.TargetID = "api_key", fmt.Sprintf("zc_%08d", r.IntN(1e8))
		e.Details = map[string]any{"name": "service-" + strconv.Itoa(r.IntN(100)), "scopes": []string{ScopeIssue, ScopeRevoke}}
	default:
		e.TargetType, e.TargetID = "project", strconv.Itoa(int(appID))
		e.Details = map[string]any{"format": "csv"}
	}
	return SeedEvent{OccurredAt: at, Actor: e.Actor, Origin: e.Origin, Action: e.Action, Outcome: e.Outcome,
		AppID: e.AppID, TargetType: e.TargetType, TargetID: e.TargetID, Details: jsonbText(e.Details),
		TokenFingerprint: e.TokenFingerprint}
}

// seedTokenDetails are the details of the token events other than
// successful issues, as the console writes them.
func seedTokenDetails(action, tokenID, user string) map[string]any {
	switch action {
	case "token.introspect":
		return map[string]any{"active": true, "user_id": user, "token_id": tokenID}
	case "token.revoke":
		return map[string]any{"reason": "logout", "user_id": user, "token_id": tokenID}
	}
	return map[string]any{"error": "database unavailable", "user_id": user} // a failed issue
}

// fingerprint is 32 random bytes standing for a token's SHA-256.
func (g *SeedGenerator) fingerprint() []byte {
	fp := make([]byte, 32)
	for j := 0; j < 32; j += 8 {
		v := g.rng.Uint64()
		for k := range 8 {
			fp[j+k] = byte(v >> (8 * k))
		}
	}
	return fp
}

func (g *SeedGenerator) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}

// jsonbText renders audit details exactly as PostgreSQL prints a jsonb
// object: keys ordered by length, then bytes; ", " and ": " between items;
// strings escaped as PostgreSQL escapes them. It knows the value types that
// audit details use, and panics on any other (a mistake in the program).
func jsonbText(details map[string]any) string {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		appendJSONBString(&b, k)
		b.WriteString(": ")
		appendJSONBValue(&b, details[k])
	}
	b.WriteByte('}')
	return b.String()
}

func appendJSONBValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		appendJSONBString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case int32:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case []string:
		if v == nil {
			b.WriteString("null")
			return
		}
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			appendJSONBString(b, s)
		}
		b.WriteByte(']')
	default:
		panic(fmt.Sprintf("store: jsonbText: audit details hold a %T", v))
	}
}

// appendJSONBString writes s as PostgreSQL's jsonb output does: the usual
// two-character escapes, \u00xx for other control characters, everything
// else as it is.
func appendJSONBString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if c < ' ' {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// SeedProjects makes sure the projects firstAppID … firstAppID+n-1 exist,
// creating each missing one with a random ServerSecret, and returns their
// AppIDs: the projects SeedGenerator's events concern.
func (s *Store) SeedProjects(ctx context.Context, firstAppID uint32, n int, actor Actor) ([]uint32, error) {
	ids := make([]uint32, 0, n)
	for i := range n {
		appID := firstAppID + uint32(i)
		ids = append(ids, appID)
		_, err := s.ProjectByAppID(ctx, appID)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrProjectNotFound) {
			return nil, fmt.Errorf("seed projects: %w", err)
		}
		raw := make([]byte, 16)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("seed projects: %w", err)
		}
		if _, err := s.CreateProject(ctx, ProjectInput{Name: fmt.Sprintf("Seeded %d", appID), AppID: appID,
			Environment: "bench", DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true},
			[]byte(hex.EncodeToString(raw)), actor, Origin{}); err != nil {
			return nil, fmt.Errorf("seed projects: %w", err)
		}
	}
	return ids, nil
}
