package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zegocloud-console/console/internal/token04"
)

// ErrBadCursor means a page cursor was not made by ListAudit.
var ErrBadCursor = errors.New("bad audit page cursor")

// ErrCursorFilters means a cursor was made for other filters: reused with
// them it would silently list something else. It is an ErrBadCursor.
var ErrCursorFilters = fmt.Errorf("%w: made for other filters", ErrBadCursor)

// AuditEvent is one audit event as read back, sealed or not yet. Its JSON
// form (MarshalJSON) is the one of the API and the NDJSON export.
type AuditEvent struct {
	ID               int64           `db:"id"`
	OccurredAt       time.Time       `db:"occurred_at"`
	ActorType        string          `db:"actor_type"`
	ActorID          string          `db:"actor_id"`
	ActorName        string          `db:"actor_name"`
	Action           string          `db:"action"`
	Outcome          string          `db:"outcome"`
	AppID            *int64          `db:"app_id"`
	TargetType       string          `db:"target_type"`
	TargetID         string          `db:"target_id"`
	RequestID        string          `db:"request_id"`
	ClientIP         string          `db:"client_ip"`
	UserAgent        string          `db:"user_agent"`
	Details          json.RawMessage `db:"details"`
	TokenFingerprint []byte          `db:"token_fingerprint"`
	ChainSeq         *int64          `db:"chain_seq"` // nil until sealed
	PrevHash         []byte          `db:"prev_hash"` // the hash of chain_seq - 1 (32 zero bytes before the first)
	Hash             []byte          `db:"hash"`
	ProjectID        *int64          `db:"project_id"`        // the project it is about; nil for none
	CanonicalVersion int16           `db:"canonical_version"` // the layout its hash is computed in (appendCanonical)
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events []AuditEvent
	Next   string // cursor of the following page, "" on the last one
}

// auditColumns reads an AuditEvent. details goes out as text: the exact bytes
// that the chain hashes, without a JSON decoding round trip per row.
const auditColumns = `id, occurred_at, actor_type, actor_id, actor_name, action, outcome, app_id,
	target_type, target_id, request_id, client_ip, user_agent, details::text AS details,
	token_fingerprint, chain_seq, prev_hash, hash, project_id, canonical_version`

// Page sizes of ListAudit.
const (
	DefaultAuditPageSize = 50
	MaxAuditPageSize     = 500
)

// ListAudit returns the events matching f, newest first (by occurred_at,
// then id), limit at a time (DefaultAuditPageSize when limit <= 0, at most
// MaxAuditPageSize). cursor is "" for the first page, then the Next of the
// page before; a cursor not made here is ErrBadCursor.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, cursor string, limit int) (AuditPage, error) {
	var after *AuditCursor
	if cursor != "" {
		c, err := ParseAuditCursor(cursor)
		if err != nil {
			return AuditPage{}, fmt.Errorf("store: list audit: %w", err)
		}
		if c.Filter != f.digest() {
			return AuditPage{}, fmt.Errorf("store: list audit: %w", ErrCursorFilters)
		}
		after = &c
	}
	if limit <= 0 {
		limit = DefaultAuditPageSize
	}
	limit = min(limit, MaxAuditPageSize)
	events, err := s.listAudit(ctx, f, after, limit+1)
	if err != nil {
		return AuditPage{}, fmt.Errorf("store: list audit: %w", err)
	}
	page := AuditPage{Events: events}
	if len(events) > limit {
		page.Events = events[:limit]
		page.Next = cursorAt(events[limit-1], f).String()
	}
	return page, nil
}

// listAudit reads up to limit events matching f that come after the cursor.
func (s *Store) listAudit(ctx context.Context, f AuditFilter, after *AuditCursor, limit int) ([]AuditEvent, error) {
	if f.Text == "" {
		return s.readAudit(ctx, s.pool, f, after, limit, nil, pgx.QueryExecModeCacheDescribe)
	}
	return s.readAuditWithin(ctx, s.auditTextTimeout, f, after, limit, nil, false)
}

// CountAudit counts the events f selects, up to limit: a count above limit
// comes back as limit+1 ("more than"). Counting stops after the time a
// free-text search may take; the count is then -1 (not known).
func (s *Store) CountAudit(ctx context.Context, f AuditFilter, limit int) (int64, error) {
	conds, args := f.conditions(nil, true)
	args = append(args, limit+1)
	q := `SELECT count(*) FROM (SELECT 1 FROM audit_events` + whereClause(conds) + ` LIMIT $` + strconv.Itoa(len(args)) + `) AS e`
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", max(s.auditTextTimeout.Milliseconds(), 1))); err != nil {
			return err
		}
		return tx.QueryRow(ctx, q, args...).Scan(&n)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" && ctx.Err() == nil {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: count audit: %w", err)
	}
	return n, nil
}

// ErrAuditTooSlow means reading a page or a batch of audit events took
// longer than allowed, so it was stopped. When the filter has a free text,
// the error also carries a field error on q: the text is too common.
var ErrAuditTooSlow = errors.New("reading the audit events took longer than allowed")

// readAuditWithin is readAudit in a transaction whose statements may take
// at most timeout; past it the read stops with ErrAuditTooSlow.
//
// walk reads the batch by walking an index in the listing order (an
// export's batches; walkSettings). For a big batch of one project the
// planner, not knowing the project's size (a LATERAL parameter), otherwise
// gathered all the month's events before the cursor and sorted them on
// disk to keep 4,000 (52,379 rows, 68 ms against 15 ms), and with 10,000 a
// batch an export ran at 36k events/s instead of 145k-194k.
func (s *Store) readAuditWithin(ctx context.Context, timeout time.Duration, f AuditFilter, after *AuditCursor, limit int, dst []AuditEvent, walk bool) ([]AuditEvent, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		set := fmt.Sprintf("SET LOCAL statement_timeout = %d", max(timeout.Milliseconds(), 1))
		mode := pgx.QueryExecModeCacheDescribe
		if settings := f.walkSettings(); walk && settings != "" {
			// A walk has one plan whatever the values: prepared once on the
			// connection, not planned for each batch (a tenth of an export's
			// time). Free text and a token are not walked, and keep a plan
			// made for their values.
			set, mode = set+settings, pgx.QueryExecModeCacheStatement
		}
		if _, err := tx.Exec(ctx, set); err != nil {
			return err
		}
		var err error
		dst, err = s.readAudit(ctx, tx, f, after, limit, dst, mode)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" && ctx.Err() == nil {
		if f.Text == "" {
			return dst, ErrAuditTooSlow
		}
		return dst, errors.Join(ErrAuditTooSlow, &ValidationError{Fields: map[string]string{
			"q": fmt.Sprintf("this text is too common to search in time; add a project, an action or a shorter time range (without one, free text searches the last %d days), or a longer, rarer text", int(AuditTextWindow.Hours()/24))}})
	}
	return dst, err
}

// walkSettings are the planner settings (statements for after a SET ... ;)
// that make a batch of f walk an index in the listing order: every filter
// but free text and a token's fingerprint has such an index in every month.
// Several projects are merged by a sort of the newest of each, which is
// then read by key: that sort stays.
func (f AuditFilter) walkSettings() string {
	if f.Text != "" || f.Fingerprint != nil {
		return ""
	}
	if apps, limited := f.projects(); limited && len(apps) > 1 {
		return "; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off"
	}
	return "; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off"
}

// readAudit appends to dst up to limit events matching f that come after
// the cursor, reusing dst's array: an export reads batch after batch into
// one slice.
func (s *Store) readAudit(ctx context.Context, db dbtx, f AuditFilter, after *AuditCursor, limit int, dst []AuditEvent, mode pgx.QueryExecMode) ([]AuditEvent, error) {
	sql, args := f.query(after, limit)
	// A page is planned afresh with the values each time (an unnamed
	// statement, QueryExecModeCacheDescribe): a cached generic plan cannot
	// know which index a given filter wants, and picking the wrong one costs
	// a full scan.
	rows, err := db.Query(ctx, sql, append([]any{mode}, args...)...)
	if err != nil {
		return dst, err
	}
	defer rows.Close()
	for rows.Next() {
		dst = append(dst, AuditEvent{})
		if err := scanAuditEvent(rows, &dst[len(dst)-1]); err != nil {
			return dst[:len(dst)-1], err
		}
	}
	return dst, rows.Err()
}

// scanAuditEvent reads a row of auditColumns into e. A Scan list rather than
// RowToStructByName: an export reads a million rows, and the reflection was
// a tenth of its CPU. Every slice and pointer it sets is newly allocated, so
// e can be reused for the next row while a copy of it lives on.
func scanAuditEvent(rows pgx.Rows, e *AuditEvent) error {
	return rows.Scan(&e.ID, &e.OccurredAt, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action, &e.Outcome,
		&e.AppID, &e.TargetType, &e.TargetID, &e.RequestID, &e.ClientIP, &e.UserAgent, (*[]byte)(&e.Details),
		&e.TokenFingerprint, &e.ChainSeq, &e.PrevHash, &e.Hash, &e.ProjectID, &e.CanonicalVersion)
}

// query is the SQL, with its arguments, that reads up to limit events of f
// after the cursor, newest first.
//
// A filter limited to projects reads project by project, in a LATERAL over
// the projects: the newest limit events of each, from (app_id, occurred_at,
// id) or (app_id, action, occurred_at, id), then merged. Given the projects
// as constants, the planner prefers to walk (occurred_at, id) and skip other
// projects' events, which is cheap only while the newest events are the
// filter's: behind a burst of 160,000 events of another project a page took
// 110-150 ms, reading every event of the burst. Inside the LATERAL the
// project is a parameter, so the planner no longer counts on a big
// project's events being everywhere.
//
// With several projects the merge takes only (occurred_at, id), index only
// when the index holds every other condition, and then reads the limit
// rows it keeps: reading and converting whole rows that the merge discards
// took 3 to 5 times as long with 20 projects. With one project there is
// nothing to discard, and reading the rows at once is cheaper.
//
// Limited to live projects (an API key), the scope is the projects' ids
// rather than their AppIDs, read from projects, and every filter but free
// text and a token is read project by project: the (project_id, …) indexes
// of migrations 00005 and 00016 make the project alone, and with an action,
// an actor or an outcome, an index range. A page then reads about limit
// index entries of each project, however rare the actor or outcome is in the
// projects and however common elsewhere (2 M events, 20 projects, first
// page: actor 2.5 ms, outcome=denied 1.5 ms). Before them the query was one
// scan of the projects' events with the value, which the planner answered
// by combining, in each project, the value's index with the project's (a
// BitmapAnd), reading every match and sorting them all: 126 ms for actor,
// 478 ms for outcome; with the new indexes but not the LATERAL it still
// read every match (191 ms).
//
// By AppID (an operator limited to projects) there are no such indexes for
// actor and outcome: with one project the planner chooses among (app_id,
// occurred_at, id) and the value's own index inside the LATERAL; with
// several, one walk of the value's (X, occurred_at, id) index keeping the
// projects' events beats a search of every event of each project (a rare
// actor in 20 projects: 0.2 ms against 200 ms), but is long when the value
// is rare in those projects and common elsewhere.
//
// Free text and a token are found through their own indexes, whatever the
// projects.
func (f AuditFilter) query(after *AuditCursor, limit int) (string, []any) {
	apps, limited := f.projects()
	perProject := limited && len(apps) > 0 && f.Text == "" && f.Fingerprint == nil &&
		(len(apps) == 1 || f.LiveProjects || f.Actor == "" && f.Outcome == "")
	conds, args := f.conditions(after, !perProject)
	if !perProject {
		args = append(args, limit)
		return withChain(`SELECT * FROM audit_events` + whereClause(conds) +
			` ORDER BY occurred_at DESC, id DESC LIMIT $` + strconv.Itoa(len(args))), args
	}
	args = append(args, apps, limit)
	appsArg, n := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
	scope, inScope := `unnest(`+appsArg+`::bigint[]) AS scope(app_id)`, "app_id = scope.app_id"
	if f.LiveProjects {
		scope, inScope = `(`+liveProjectsOf(appsArg)+`) AS scope(project_id)`, "project_id = scope.project_id"
	}
	// Inside the LATERAL, conds name the columns of the innermost events.
	newest := func(columns, from string) string {
		return ` FROM ` + scope + `, LATERAL (
			SELECT ` + columns + ` FROM ` + from + whereClause(append([]string{inScope}, conds...)) + `
			ORDER BY occurred_at DESC, id DESC LIMIT ` + n + `) AS e
		ORDER BY e.occurred_at DESC, e.id DESC LIMIT ` + n
	}
	if len(apps) == 1 {
		return withChain(`SELECT e.*` + newest("*", "audit_events")), args
	}
	return withChain(`SELECT * FROM audit_events WHERE (id, occurred_at) IN (
		SELECT e.id, e.occurred_at` + newest("occurred_at, id", "audit_events") + `)`), args
}

// withChain reads a page of events, the rows of audit_events that page
// selects, with their places in the chain, newest first. The chain is joined
// to the page's rows only: joined before, it can make the planner read the
// whole chain to find a page.
func withChain(page string) string {
	return `SELECT ` + auditColumns + ` FROM (SELECT e.*, c.chain_seq, c.prev_hash, c.hash FROM (` + page + `) AS e
		LEFT JOIN audit_chain c ON c.event_id = e.id AND c.occurred_at = e.occurred_at) AS e
		ORDER BY e.occurred_at DESC, e.id DESC`
}

// liveProjectsOf selects the ids of the live projects whose AppIDs are in
// the bigint[] apps (a placeholder).
func liveProjectsOf(apps string) string {
	return `SELECT id FROM projects WHERE app_id = ANY(` + apps + `) AND deleted_at IS NULL`
}

// whereClause joins conditions into a WHERE clause with a leading space, or
// "".
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// projects lists, each once, the projects f is limited to (AppID, AppIDs or
// both), and whether it is limited to projects at all. An AppID outside
// AppIDs leaves none.
func (f AuditFilter) projects() ([]int64, bool) {
	if len(f.AppIDs) == 0 {
		if f.AppID == 0 {
			return nil, false
		}
		return []int64{int64(f.AppID)}, true
	}
	apps := make([]int64, 0, len(f.AppIDs))
	for _, id := range f.AppIDs {
		if f.AppID == 0 || id == f.AppID {
			apps = append(apps, int64(id))
		}
	}
	slices.Sort(apps)
	return slices.Compact(apps), true
}

// conditions turns the filter into SQL conditions and their arguments;
// after adds the keyset condition, and withApps the projects. Migration 00002
// gives each filter an index in the listing order: (X, occurred_at, id) for
// X in app_id, action, (app_id, action), actor_name and outcome; migrations
// 00005 and 00016 the same for project_id alone and with action, actor_name
// or outcome; time ranges use (occurred_at, id), a token the fingerprint
// index, free text a trigram index.
func (f AuditFilter) conditions(after *AuditCursor, withApps bool) ([]string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if apps, limited := f.projects(); withApps && limited && f.LiveProjects {
		conds = append(conds, "project_id IN ("+liveProjectsOf(arg(apps)+"::bigint[]")+")")
	} else if withApps {
		if f.AppID != 0 {
			conds = append(conds, "app_id = "+arg(int64(f.AppID)))
		}
		if len(f.AppIDs) > 0 {
			ids := make([]int64, len(f.AppIDs))
			for i, id := range f.AppIDs {
				ids[i] = int64(id)
			}
			conds = append(conds, "app_id = ANY("+arg(ids)+")")
		}
	}
	if f.Actor != "" {
		conds = append(conds, "actor_name = "+arg(f.Actor))
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok && strings.HasSuffix(prefix, ".") {
		// action is COLLATE "C" (migration 00002): the prefix is a byte range
		// that the action indexes serve. '.' + 1 is '/'.
		hi := strings.TrimSuffix(prefix, ".") + "/"
		conds = append(conds, "action >= "+arg(prefix)+" AND action < "+arg(hi))
	} else if f.Action != "" {
		conds = append(conds, "action = "+arg(f.Action))
	}
	if f.Outcome != "" {
		conds = append(conds, "outcome = "+arg(f.Outcome))
	}
	if len(f.ExceptActions) > 0 {
		conds = append(conds, "action <> ALL("+arg(f.ExceptActions)+"::text[])")
	}
	from := f.From
	if f.Text != "" && from.IsZero() {
		from = time.Now().Add(-AuditTextWindow)
	}
	var window string // the time range, for the free-text search's own tables
	if !from.IsZero() {
		window += " AND occurred_at >= " + arg(from)
	}
	if !f.To.IsZero() {
		window += " AND occurred_at < " + arg(f.To)
	}
	if window != "" {
		conds = append(conds, strings.TrimPrefix(window, " AND "))
	}
	if f.Text != "" {
		conds = append(conds, auditTextMatch(arg("%"+escapeLike(f.Text)+"%"), window))
	}
	if f.Fingerprint != nil {
		conds = append(conds, "token_fingerprint = "+arg(f.Fingerprint))
	}
	if after != nil {
		conds = append(conds, "(occurred_at, id) < ("+arg(after.OccurredAt)+", "+arg(after.ID)+")")
	}
	return conds, args
}

// auditTextExpr is what free text searches: the fields a person would look
// for, joined by a unit separator that a search text never contains (it is
// refused as a control character), so that a match cannot span two fields.
// The text indexer keeps exactly this text of every sealed event in
// audit_text, which has the trigram index (migration 00013).
const auditTextExpr = `(actor_name || E'\x1f' || target_id || E'\x1f' || action || E'\x1f' || user_agent
	|| E'\x1f' || client_ip || E'\x1f' || details::text)`

// AuditTextWindow is how far back free text searches when the filter has
// no From: the trigram indexes of the months in the window are searched,
// not those of the whole trail.
const AuditTextWindow = 31 * 24 * time.Hour

// auditTextMatch is the condition that an event's text matches the ILIKE
// pattern pattern (a placeholder): through the trigram indexes of
// audit_text, month by month (window, " AND occurred_at …" or "", keeps to
// the months of the time range), for the events the text indexer reached,
// and by reading the few on its queue or on the sealer's.
//
// The matches are gathered first, into an array, and the page reads them by
// id: as an IN (subquery), the planner may walk the events newest first and
// look each up in the matches, which for a rare text in a month of events
// took 2.2 s behind a page cursor (80 ms this way, 2 M events).
func auditTextMatch(pattern, window string) string {
	// A queue is read row by row, each event looked up by its key: the
	// LATERAL's LIMIT keeps the planner from turning it into a join, which
	// it did when the queue's statistics still counted a burst's rows (a
	// parallel scan of every event's text in the window: 1.4 s with the
	// queue empty). q.event_id > 0 (every id is) reads the queue through its
	// primary key: a queue that was long once keeps its pages, empty, until
	// vacuum can cut them off (10,812 pages, 38 ms to read).
	unread := func(queue string) string {
		return ` UNION ALL SELECT q.event_id FROM ` + queue + ` q, LATERAL (SELECT FROM audit_events u
			WHERE u.id = q.event_id AND u.occurred_at = q.occurred_at AND ` + auditTextExpr + ` ILIKE ` + pattern + ` LIMIT 1) AS m
		WHERE q.event_id > 0` + strings.ReplaceAll(window, "occurred_at", "q.occurred_at")
	}
	return `id = ANY(ARRAY(SELECT event_id FROM audit_text WHERE body ILIKE ` + pattern + window +
		unread("audit_unindexed") + unread("audit_unsealed") + `))`
}

// escapeLike makes s match itself literally in LIKE/ILIKE (escape character \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AuditCursor is a position in the listing order: the last event of a page,
// and the filter it was listed with.
type AuditCursor struct {
	OccurredAt time.Time
	ID         int64
	Filter     uint64 // AuditFilter.digest of the page's filter
}

// cursorAt is the cursor of the page after e, listed with f.
func cursorAt(e AuditEvent, f AuditFilter) AuditCursor {
	return AuditCursor{OccurredAt: e.OccurredAt, ID: e.ID, Filter: f.digest()}
}

// digest names the filter in a cursor: its URL form, which ParseAuditFilter
// reads back to an equal filter, and the projects it is limited to.
func (f AuditFilter) digest() uint64 {
	h := sha256.New()
	h.Write([]byte(f.Values().Encode()))
	ids := slices.Clone(f.AppIDs)
	slices.Sort(ids)
	for _, id := range ids {
		h.Write(binary.BigEndian.AppendUint32([]byte{0}, id))
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// auditCursorVersion prefixes cursors so that their layout can change.
const auditCursorVersion = "f1"

// String is the opaque form of the cursor, safe in a URL.
func (c AuditCursor) String() string {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 24), uint64(c.OccurredAt.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.ID))
	b = binary.BigEndian.AppendUint64(b, c.Filter)
	return auditCursorVersion + base64.RawURLEncoding.EncodeToString(b)
}

// Times a cursor may hold: what a time filter accepts, years 1 to 9999.
var (
	minCursorMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() - 1
)

// ParseAuditCursor reads a cursor made by AuditCursor.String (a page's
// Next), or returns ErrBadCursor.
func ParseAuditCursor(s string) (AuditCursor, error) {
	rest, ok := strings.CutPrefix(s, auditCursorVersion)
	if !ok || len(rest) != 32 {
		return AuditCursor{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != 24 {
		return AuditCursor{}, ErrBadCursor
	}
	micros, id := int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
	if id <= 0 || micros < minCursorMicros || micros > maxCursorMicros {
		return AuditCursor{}, ErrBadCursor
	}
	return AuditCursor{OccurredAt: time.UnixMicro(micros).UTC(), ID: id, Filter: binary.BigEndian.Uint64(b[16:])}, nil
}

// AuditFilter selects audit events; the zero value selects every event.
type AuditFilter struct {
	AppID       uint32    // 0 = any project
	AppIDs      []uint32  // when not empty, only these projects (an API key's scope); not a URL parameter
	Actor       string    // actor_name, exactly; "" = anyone
	Action      string    // exact ("token.issue") or a prefix ending in ".*" ("token.*")
	Outcome     string    // success, denied, error; "" = any
	From, To    time.Time // occurred_at from From (inclusive) to To (exclusive); zero = open
	Text        string    // free text in actor, target, action, user agent, client IP or details; 3+ characters; the last AuditTextWindow unless From is set
	Fingerprint []byte    // SHA-256 of the token the events are about
	// LiveProjects limits AppID and AppIDs to the projects that have them
	// now: events of a deleted project that had one of them are left out,
	// as are events about an AppID and no project. An API key reads the
	// trail this way; the UI shows every event. Not a URL parameter.
	LiveProjects bool
	// ExceptActions leaves these actions out (the dashboard's latest
	// activity without token.inspect). Not a URL parameter: a page read
	// with it has no next page.
	ExceptActions []string
}

var (
	auditActionRe       = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)
	auditActionPrefixRe = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)*\.\*$`)
	token04Re           = regexp.MustCompile(`^04[A-Za-z0-9+/]+={0,2}$`)
)

// ParseAuditFilter reads a filter from URL query parameters: app_id, actor,
// action, outcome, from, to, q, and token (a raw Token04, searched by its
// fingerprint) or fingerprint (64 hex digits). from and to take RFC 3339, a
// date (2006-01-02) or a browser datetime-local (2006-01-02T15:04), the last
// two in UTC; a date as to includes that whole day. Other parameters are
// ignored. The error is a *ValidationError naming each bad parameter.
func ParseAuditFilter(v url.Values) (AuditFilter, error) {
	var f AuditFilter
	bad := validator{}
	text := func(name string, max int) string {
		s := strings.TrimSpace(v.Get(name))
		bad.check(utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl), name, "contains control characters or invalid UTF-8")
		bad.check(utf8.RuneCountInString(s) <= max, name, "longer than %d characters", max)
		return s
	}
	if s := strings.TrimSpace(v.Get("app_id")); s != "" && s != "0" { // 0: any project
		id, err := token04.ParseAppID(s)
		bad.check(err == nil, "app_id", "want a ZEGO AppID, a whole number from 1 to 4294967295")
		f.AppID = id
	}
	f.Actor = text("actor", 200)
	f.Action = strings.ToLower(text("action", 100))
	bad.check(f.Action == "" || auditActionRe.MatchString(f.Action) || auditActionPrefixRe.MatchString(f.Action),
		"action", "want an action such as token.issue, or a prefix such as token.*")
	f.Outcome = strings.ToLower(text("outcome", 20))
	bad.check(f.Outcome == "" || f.Outcome == OutcomeSuccess || f.Outcome == OutcomeDenied || f.Outcome == OutcomeError,
		"outcome", "want success, denied or error")
	f.From = parseAuditTime(bad, "from", v.Get("from"), false)
	f.To = parseAuditTime(bad, "to", v.Get("to"), true)
	bad.check(f.From.IsZero() || f.To.IsZero() || f.From.Before(f.To), "to", "must be after from")
	f.Text = text("q", 200)
	// Shorter text cannot use the trigram index: it would scan every event.
	bad.check(f.Text == "" || utf8.RuneCountInString(f.Text) >= 3, "q", "search for at least 3 characters")
	if s := token04.CleanPasted(v.Get("token")); s != "" {
		bad.check(token04Re.MatchString(s), "token", "not a Token04 (\"04\" followed by base64)")
		sum := token04.FingerprintSum(s)
		f.Fingerprint = sum[:]
	}
	if s := strings.TrimSpace(v.Get("fingerprint")); s != "" {
		fp, err := hex.DecodeString(s)
		bad.check(err == nil && len(fp) == sha256.Size, "fingerprint", "want the token's SHA-256 as 64 hex digits")
		bad.check(f.Fingerprint == nil || bytes.Equal(fp, f.Fingerprint), "fingerprint", "does not match the token")
		if err == nil && len(fp) == sha256.Size {
			f.Fingerprint = fp
		}
	}
	if err := bad.err(); err != nil {
		return AuditFilter{}, err
	}
	return f, nil
}

// parseAuditTime reads one bound; end makes a bare date mean the day after,
// so that "to=2024-05-01" includes the 1st of May.
func parseAuditTime(bad validator, name, s string, end bool) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if layout == time.DateOnly && end {
			t = t.AddDate(0, 0, 1)
		}
		t = t.UTC().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
		bad.check(t.Year() >= 1 && t.Year() <= 9999, name, "year out of range")
		return t
	}
	bad.check(false, name, "want a time such as 2024-05-01, 2024-05-01T13:30 or 2024-05-01T13:30:00Z")
	return time.Time{}
}

// Values is the filter as URL query parameters, which ParseAuditFilter reads
// back to an equal filter: for links, the next page and the export URL. A
// token is written as its fingerprint, never as itself.
func (f AuditFilter) Values() url.Values {
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	if f.AppID != 0 {
		v.Set("app_id", strconv.FormatUint(uint64(f.AppID), 10))
	}
	set("actor", f.Actor)
	set("action", f.Action)
	set("outcome", f.Outcome)
	if !f.From.IsZero() {
		v.Set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	set("q", f.Text)
	if f.Fingerprint != nil {
		v.Set("fingerprint", hex.EncodeToString(f.Fingerprint))
	}
	return v
}
