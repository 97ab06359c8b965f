package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Actor types: who did something.
const (
	ActorOperator  = "operator"
	ActorAPIKey    = "api_key"
	ActorCLI       = "cli"
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// Outcomes of an audited action.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeError   = "error"
)

// Actor is who performs an action: an operator, an API key, the CLI.
type Actor struct {
	Type string // ActorOperator, ActorAPIKey, …
	ID   string // operator id, API key prefix; empty for the CLI
	Name string // username, key name, "cli"
}

// Origin is where a request came from.
type Origin struct {
	RequestID string
	ClientIP  string
	UserAgent string
}

// Event is one line of the audit trail as it is written.
type Event struct {
	Actor            Actor
	Origin           Origin
	Action           string // dotted: token.issue, project.secret_rotate, auth.login_failed
	Outcome          string
	AppID            uint32 // 0 when the event concerns no project
	TargetType       string
	TargetID         string
	Details          map[string]any
	TokenFingerprint []byte // SHA-256 of the token the event is about, if any
	// ProjectID is the project the event is about when the caller knows it;
	// 0 means the live project with AppID, if any. It decides who may read
	// the event: not a later project given the same AppID.
	ProjectID int64
}

// Audit records an event on its own, for actions that change nothing else
// (denied requests, failed sign-ins, inspections, exports).
func (s *Store) Audit(ctx context.Context, e Event) error {
	return s.insertAudit(ctx, s.pool, e)
}

// insertAudit writes e unsealed; the sealer chains it after commit.
func (s *Store) insertAudit(ctx context.Context, db dbtx, e Event) error {
	start := time.Now()
	q, args, err := auditInsertSQL(e, 1)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: insert audit event %s: %w: %w", e.Action, ErrAuditWrite, err)
	}
	s.observeAuditWrite(start)
	return nil
}

// auditArgTypes are the column types of auditInsertSQL's parameters: in an
// INSERT … SELECT, PostgreSQL does not infer them from the target columns.
var auditArgTypes = []string{"text", "text", "text", "text", "text", "bigint",
	"text", "text", "text", "text", "text", "jsonb", "bytea", "bigint"}

// auditInsertColumns are the columns an audit insert writes, in the order of
// auditValues; the database stamps the rest.
const auditInsertColumns = `actor_type, actor_id, actor_name, action, outcome, app_id,
			target_type, target_id, request_id, client_ip, user_agent, details, token_fingerprint, project_id`

// auditValues are the values of auditInsertColumns for e, in that order,
// bounded as the trail keeps them.
func auditValues(e Event) ([]any, error) {
	details, _ := auditDetails(e.Details).(map[string]any)
	if details == nil {
		details = map[string]any{}
	}
	js, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("store: audit details: %w", err)
	}
	var appID, projectID *int64
	if e.AppID != 0 {
		v := int64(e.AppID)
		appID = &v
	}
	if e.ProjectID != 0 {
		projectID = &e.ProjectID
	}
	f := maxAuditField
	return []any{e.Actor.Type, auditText(e.Actor.ID, f), auditText(e.Actor.Name, f), e.Action, e.Outcome, appID,
		auditText(e.TargetType, f), auditText(e.TargetID, maxAuditTargetID), auditText(e.Origin.RequestID, f),
		auditText(e.Origin.ClientIP, f), auditText(e.Origin.UserAgent, f), js, e.TokenFingerprint, projectID}, nil
}

// auditProjectOf is the SQL of an event's project: the one it names, else
// the live project with its AppID, found in the same statement.
func auditProjectOf(project, app string) string {
	return "COALESCE(" + project + ", (SELECT id FROM projects WHERE app_id = " + app + " AND deleted_at IS NULL))"
}

// auditInsertSQL renders "INSERT INTO audit_events … SELECT $n, …" with
// parameters numbered from first, so that it can follow another statement's
// CTE (the caller appends FROM/WHERE as needed). An event that names an
// AppID but no project gets the live project with that AppID, found in the
// same statement.
func auditInsertSQL(e Event, first int) (string, []any, error) {
	args, err := auditValues(e)
	if err != nil {
		return "", nil, err
	}
	ph := typedPlaceholders(first, auditArgTypes)
	ph[len(ph)-1] = auditProjectOf(ph[len(ph)-1], ph[5])
	return `INSERT INTO audit_events (` + auditInsertColumns + `)
		SELECT ` + strings.Join(ph, ", "), args, nil
}

// typedPlaceholders returns "$first::types[0]", "$first+1::types[1]", …:
// parameters whose types PostgreSQL cannot infer, as in INSERT … SELECT.
func typedPlaceholders(first int, types []string) []string {
	ph := make([]string, len(types))
	for i, t := range types {
		ph[i] = "$" + strconv.Itoa(first+i) + "::" + t
	}
	return ph
}
