package ui

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// IssueListForm is the "Issue for a list" page's view model: the settings
// every token of the list shares, as on the issue form, the user ids typed
// or pasted, and what is wrong with them, by line.
type IssueListForm struct {
	IssueForm
	Users     string   // user ids, one per line or CSV (the first column)
	UserLines []string // "line 3 (alice): reason", for the user ids at fault
}

// listUser is a user id of the list with the line it came from.
type listUser struct {
	id   string
	line int
}

// tokenIssueListForm shows the empty "Issue for a list" form; ?app_id=
// preselects a project.
func (s *Server) tokenIssueListForm(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.emptyIssueForm(w, r); ok {
		s.render(w, r, http.StatusOK, s.page(r, "Issue for a list", "issue"), IssueListView(IssueListForm{IssueForm: f}))
	}
}

// tokenIssueList issues a token for each user id of the list, with the
// form's settings, in one transaction through the store's issuing path, and
// answers with the tokens as a CSV download: the only time they are shown.
// When anything is wrong nothing is issued and the form comes back.
func (s *Server) tokenIssueList(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBatchBodyBytes)
	users, text, err := readUserList(r)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad form", tr(r, "The form could not be read ({{.Reason}}). Reload the page and try again.", "Reason", err.Error()))
		return
	}
	common, req := parseIssueForm(r)
	f := IssueListForm{IssueForm: common, Users: text}
	delete(f.Errors, "user_id")
	if req.AppID != 0 && !s.allowApp(w, r, web.ActIssue, req.AppID) {
		return
	}
	ids, lines := checkUserList(r.Context(), users)
	f.UserLines = lines
	var issued []store.IssuedToken
	if len(f.Errors) == 0 && len(f.UserLines) == 0 {
		reqs := make([]store.IssueRequest, len(ids))
		for i, u := range ids {
			reqs[i] = req
			reqs[i].UserID, reqs[i].Channel, reqs[i].Actor, reqs[i].Origin = u.id, store.ChannelUI, web.Actor(r), s.Origin(r)
		}
		issued, err = s.Store.IssueTokens(r.Context(), reqs)
		if fe := web.FieldErrors(err); fe != nil {
			f.placeErrors(r.Context(), fe, ids)
		} else if err != nil {
			s.failAs(w, r, err, "No token was issued.")
			return
		}
	}
	if len(f.Errors) > 0 || len(f.UserLines) > 0 {
		projects, err := s.issuableProjects(r)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		f.Projects = projects
		s.render(w, r, http.StatusUnprocessableEntity, s.page(r, "Issue for a list", "issue"), IssueListView(f))
		return
	}
	rows := [][]string{{"user_id", "token", "expires_at", "room_id", "privileges", "token_id"}}
	for _, it := range issued {
		rows = append(rows, []string{it.Record.UserID, it.Token, csvTime(&it.Record.Expire), it.Record.RoomID,
			strings.Join(it.Record.PrivilegeNames(), " "), it.Record.ID})
	}
	writeCSV(w, "tokens-"+strconv.FormatInt(issued[0].Record.AppID, 10), rows)
}

// readUserList reads the posted form (multipart, for the uploaded file) and
// returns the user ids typed or pasted, then those of the uploaded CSV, and
// the text to show again.
func readUserList(r *http.Request) ([]listUser, string, error) {
	if err := r.ParseMultipartForm(web.MaxBatchBodyBytes); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, "", err
	}
	if err := r.ParseForm(); err != nil {
		return nil, "", err
	}
	text := strings.TrimRight(r.PostFormValue("users"), "\r\n")
	users, err := parseUserList(text, 0)
	if err != nil {
		return nil, text, err
	}
	file, _, err := r.FormFile("users_file")
	switch {
	case errors.Is(err, http.ErrMissingFile):
		return users, text, nil
	case err != nil:
		return nil, text, err
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, text, err
	}
	// The file's lines are shown, and numbered, after the text's.
	offset := 0
	if text != "" {
		offset = strings.Count(text, "\n") + 1
		text += "\n"
	}
	fromFile, err := parseUserList(string(data), offset)
	if err != nil {
		return nil, text, fmt.Errorf("the uploaded file: %w", err)
	}
	return append(users, fromFile...), text + strings.TrimRight(string(data), "\r\n"), nil
}

// headerCell is the first cell of a CSV header line, which is skipped.
var headerCell = regexp.MustCompile(`(?i)^\s*(user[ _]?id|userid|user)\s*$`)

// parseUserList reads user ids, one per line, or CSV whose first column is
// the user id (a header line naming it is skipped); blank lines are ignored.
// Lines are numbered from first+1.
func parseUserList(text string, first int) ([]listUser, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord, cr.TrimLeadingSpace, cr.LazyQuotes = -1, true, true
	var out []listUser
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[0])
		if id == "" || (len(out) == 0 && headerCell.MatchString(id)) {
			continue
		}
		out = append(out, listUser{id: id, line: first + line})
	}
}

// checkUserList refuses an empty list, one longer than a batch, and user ids
// given twice, by line.
func checkUserList(ctx context.Context, users []listUser) ([]listUser, []string) {
	switch {
	case len(users) == 0:
		return nil, []string{t(ctx, "Enter at least one user id, or upload a CSV file of them.")}
	case len(users) > store.MaxBatchTokens:
		return nil, []string{t(ctx, "At most {{.Max}} user ids at once (got {{.Got}}): split the list.",
			"Max", strconv.Itoa(store.MaxBatchTokens), "Got", strconv.Itoa(len(users)))}
	}
	var problems []string
	firstLine := map[string]int{}
	for _, u := range users {
		if l, seen := firstLine[u.id]; seen {
			problems = append(problems, t(ctx, "line {{.Line}} ({{.User}}): already on line {{.First}}",
				"Line", strconv.Itoa(u.line), "User", u.id, "First", strconv.Itoa(l)))
			continue
		}
		firstLine[u.id] = u.line
	}
	return users, problems
}

// batchField reads the store's name of a batch field, tokens[i].field.
var batchField = regexp.MustCompile(`^tokens\[(\d+)\]\.(.+)$`)

// placeErrors puts the store's errors on a batch where people see them: a
// user id's beside its line, a setting's (the same for every token) under
// its field.
func (f *IssueListForm) placeErrors(ctx context.Context, fields map[string]string, users []listUser) {
	type atLine struct {
		line int
		text string
	}
	var lines []atLine
	for name, reason := range fields {
		m := batchField.FindStringSubmatch(name)
		if m == nil {
			f.UserLines = append(f.UserLines, fieldText(ctx, reason))
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if m[2] == "user_id" && i < len(users) {
			lines = append(lines, atLine{users[i].line, t(ctx, "line {{.Line}} ({{.User}}): {{.Reason}}",
				"Line", strconv.Itoa(users[i].line), "User", users[i].id, "Reason", fieldText(ctx, reason))})
			continue
		}
		f.Errors[m[2]] = reason
	}
	slices.SortFunc(lines, func(a, b atLine) int { return a.line - b.line })
	for _, l := range lines {
		f.UserLines = append(f.UserLines, l.text)
	}
}
