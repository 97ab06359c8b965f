package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Grant is which projects a person reaches with their role: every project,
// or the listed AppIDs.
type Grant struct {
	AllProjects bool
	AppIDs      []uint32
}

// GrantOf is an operator's grant as it stands.
func GrantOf(op Operator) Grant {
	g := Grant{AllProjects: op.AllProjects}
	for _, id := range op.AppIDs {
		g.AppIDs = append(g.AppIDs, uint32(id))
	}
	return g
}

// String is the grant as the UI and CSV exports show it: "all projects" or
// the AppIDs, space separated.
func (g Grant) String() string {
	if g.AllProjects {
		return "all projects"
	}
	if len(g.AppIDs) == 0 {
		return "no project"
	}
	ids := make([]string, len(g.AppIDs))
	for i, id := range g.AppIDs {
		ids[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(ids, " ")
}

// details is the grant in an audit event.
func (g Grant) details() map[string]any {
	ids := g.AppIDs
	if ids == nil {
		ids = []uint32{}
	}
	return map[string]any{"all_projects": g.AllProjects, "app_ids": ids}
}

// equal tells whether two grants reach the same projects.
func (g Grant) equal(o Grant) bool {
	return g.AllProjects == o.AllProjects && (g.AllProjects || slices.Equal(g.AppIDs, o.AppIDs))
}

// liveProjectIDs resolves AppIDs to the ids of their live projects (locked
// against deletion until commit) and lists the AppIDs that name none.
func liveProjectIDs(ctx context.Context, tx pgx.Tx, appIDs []uint32) (ids []int64, found, unknown []uint32, err error) {
	wanted := make([]int64, len(appIDs))
	for i, a := range appIDs {
		wanted[i] = int64(a)
	}
	rows, _ := tx.Query(ctx, `SELECT id, app_id FROM projects WHERE app_id = ANY($1) AND deleted_at IS NULL
		ORDER BY app_id FOR SHARE`, wanted)
	byApp := map[uint32]int64{}
	var id, appID int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &appID}, func() error {
		byApp[uint32(appID)] = id
		return nil
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("store: grant projects: %w", err)
	}
	for _, a := range slices.Compact(slices.Sorted(slices.Values(appIDs))) {
		if pid, ok := byApp[a]; ok {
			ids, found = append(ids, pid), append(found, a)
		} else {
			unknown = append(unknown, a)
		}
	}
	return ids, found, unknown, nil
}

// writeGrant replaces an operator's grant with all projects or projectIDs.
func writeGrant(ctx context.Context, tx pgx.Tx, operatorID int64, all bool, projectIDs []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM operator_projects WHERE operator_id = $1`, operatorID); err != nil {
		return fmt.Errorf("store: write grant: %w", err)
	}
	if !all && len(projectIDs) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO operator_projects (operator_id, project_id) SELECT $1, unnest($2::bigint[])`,
			operatorID, projectIDs); err != nil {
			return fmt.Errorf("store: write grant: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE operators SET all_projects = $2, updated_at = now() WHERE id = $1`, operatorID, all); err != nil {
		return fmt.Errorf("store: write grant: %w", err)
	}
	return nil
}

// SetOperatorGrant sets which projects an operator or auditor reaches and
// audits operator.grant_change with the grant before and after. Admins
// always reach every project; a limited grant names at least one live
// project. For a person who signs in through SSO, the mapping rules set the
// grant again at their next sign-in.
func (s *Store) SetOperatorGrant(ctx context.Context, id int64, g Grant, actor Actor, origin Origin) (Operator, error) {
	v := validator{}
	v.check(g.AllProjects || len(g.AppIDs) > 0, "projects", "choose at least one project, or all projects")
	v.check(!slices.Contains(g.AppIDs, 0), "projects", "AppID 0 names no project")
	if err := v.err(); err != nil {
		return Operator{}, err
	}
	var op Operator
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := operatorByID(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if before.Role == RoleAdmin && !g.AllProjects {
			return &ValidationError{Fields: map[string]string{"projects": "an admin reaches every project: change the role first"}}
		}
		var ids []int64
		var unknown []uint32
		if !g.AllProjects {
			if ids, g.AppIDs, unknown, err = liveProjectIDs(ctx, tx, g.AppIDs); err != nil {
				return err
			}
			if len(unknown) > 0 {
				return &ValidationError{Fields: map[string]string{"projects": fmt.Sprintf("no project with AppID %d", unknown[0])}}
			}
		} else {
			g.AppIDs = nil
		}
		if GrantOf(before).equal(g) {
			op = before
			return nil
		}
		if err := writeGrant(ctx, tx, id, g.AllProjects, ids); err != nil {
			return err
		}
		if op, err = operatorByID(ctx, tx, id, ""); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "operator.grant_change", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": op.Username, "from": GrantOf(before).details(), "to": GrantOf(op).details()}})
	})
	return op, err
}

// AllowSSOLink lets the identity-provider person whose verified e-mail is
// email take over the local account id at their first SSO sign-in (email ""
// withdraws it), and audits operator.sso_link_allow.
func (s *Store) AllowSSOLink(ctx context.Context, id int64, email string, actor Actor, origin Origin) (Operator, error) {
	email = strings.TrimSpace(email)
	v := validator{}
	v.check(email == "" || (len(email) >= 3 && len(email) <= 254 && strings.Count(email, "@") == 1 &&
		!strings.ContainsAny(email, " \t\r\n") && !containsNUL(email)), "sso_link_email", "want an e-mail address such as alice@example.com")
	if err := v.err(); err != nil {
		return Operator{}, err
	}
	var op Operator
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := operatorByID(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if before.SSO {
			return &ValidationError{Fields: map[string]string{"sso_link_email": "this account already signs in through SSO"}}
		}
		_, err = tx.Exec(ctx, `UPDATE operators SET sso_link_email = NULLIF($2, ''), updated_at = now() WHERE id = $1`, id, email)
		if isUniqueViolation(err) {
			return &ValidationError{Fields: map[string]string{"sso_link_email": "another account already waits for this e-mail"}}
		}
		if err != nil {
			return fmt.Errorf("store: allow sso link: %w", err)
		}
		if op, err = operatorByID(ctx, tx, id, ""); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "operator.sso_link_allow", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": op.Username, "email": email}})
	})
	return op, err
}
