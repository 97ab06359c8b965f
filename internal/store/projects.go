package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/zego"
)

// Project is a ZEGO project (one AppID) and its issuing policy.
type Project struct {
	ID                int64      `db:"id"`
	AppID             int64      `db:"app_id"`
	Name              string     `db:"name"`
	Environment       string     `db:"environment"`
	DefaultTTLSeconds int32      `db:"default_ttl_seconds"`
	MaxTTLSeconds     int32      `db:"max_ttl_seconds"`
	PublishAllowed    bool       `db:"publish_allowed"`
	Disabled          bool       `db:"disabled"`
	DeletedAt         *time.Time `db:"deleted_at"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`
	SecretVersion     int32      `db:"secret_version"` // the active version, 0 when none
	KickOnRevoke      bool       `db:"kick_on_revoke"` // revoking a token kicks its user out of its room at ZEGO
	ZegoServices      []string   `db:"zego_services"`  // the ZEGO products the project uses: zego.ServiceRTC, zego.ServiceZIM
	ZegoRegion        string     `db:"zego_region"`    // where its server API calls go: zego.Regions
}

// DefaultTTL is the lifetime of a token issued without one.
func (p Project) DefaultTTL() time.Duration { return time.Duration(p.DefaultTTLSeconds) * time.Second }

// MaxTTL is the longest lifetime a token of this project may have.
func (p Project) MaxTTL() time.Duration { return time.Duration(p.MaxTTLSeconds) * time.Second }

// ProjectInput is what an admin types to create or edit a project.
type ProjectInput struct {
	Name           string
	AppID          uint32
	Environment    string
	DefaultTTL     time.Duration
	MaxTTL         time.Duration
	PublishAllowed bool
	KickOnRevoke   bool
	ZegoServices   []string // nil: the default, RTC only; an empty list is refused
	ZegoRegion     string   // "": global
}

// normalizeZego fills in the ZEGO defaults and puts the products in their
// canonical order.
func (in *ProjectInput) normalizeZego() {
	if in.ZegoServices == nil {
		in.ZegoServices = []string{zego.ServiceRTC}
	}
	in.ZegoServices = zego.CanonicalServices(in.ZegoServices)
	if in.ZegoRegion == "" {
		in.ZegoRegion = zego.RegionGlobal
	}
}

// maxPolicyTTL keeps TTLs inside the integer columns and sane: 30 days.
const maxPolicyTTL = 30 * 24 * time.Hour

func (in ProjectInput) validate(v validator) {
	v.check(in.Name != "" && utf8.RuneCountInString(in.Name) <= 100 && utf8.ValidString(in.Name), "name", "must be 1 to 100 characters")
	v.checkText("name", in.Name)
	v.check(in.AppID != 0, "app_id", "must be a ZEGO AppID between 1 and 4294967295")
	v.check(environmentRe.MatchString(in.Environment), "environment", "must be 1 to 32 lowercase letters, digits or dashes, such as test or prod")
	v.check(in.DefaultTTL >= time.Second && in.DefaultTTL%time.Second == 0, "default_ttl", "must be a whole number of seconds, at least 1")
	v.check(in.MaxTTL >= time.Second && in.MaxTTL <= maxPolicyTTL, "max_ttl", "must be between 1 second and 30 days")
	v.check(in.DefaultTTL <= in.MaxTTL, "default_ttl", "must not exceed the maximum TTL")
	validServices := len(in.ZegoServices) > 0
	for _, s := range in.ZegoServices {
		validServices = validServices && zego.ValidService(s)
	}
	v.check(validServices, "zego_services", "must be rtc, zim or both")
	v.check(zego.ValidRegion(in.ZegoRegion), "zego_region", "must be one of %s", strings.Join(zego.Regions, ", "))
}

// zegoDetails are a project's ZEGO settings as audit events record them.
func (in ProjectInput) zegoDetails(d map[string]any) map[string]any {
	d["kick_on_revoke"], d["zego_services"], d["zego_region"] = in.KickOnRevoke, in.ZegoServices, in.ZegoRegion
	return d
}

// ValidateSecret checks a ServerSecret as ZEGO issues them: 32 printable ASCII characters.
func ValidateSecret(secret []byte) error {
	v := validator{}
	validateSecret(v, secret)
	return v.err()
}

func validateSecret(v validator, secret []byte) {
	ok := len(secret) == 32
	for _, c := range secret {
		ok = ok && c > 0x20 && c < 0x7f
	}
	v.check(ok, "secret", "must be exactly 32 printable ASCII characters, as shown in the ZEGO console (got %d bytes)", len(secret))
}

const projectColumns = `p.id, p.app_id, p.name, p.environment, p.default_ttl_seconds, p.max_ttl_seconds,
	p.publish_allowed, p.disabled, p.deleted_at, p.created_at, p.updated_at,
	p.kick_on_revoke, p.zego_services, p.zego_region,
	coalesce((SELECT version FROM project_secrets s WHERE s.project_id = p.id AND s.active), 0) AS secret_version`

// ListProjects returns the live projects ordered by name.
func (s *Store) ListProjects(ctx context.Context) ([]Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+projectColumns+` FROM projects p WHERE p.deleted_at IS NULL ORDER BY p.name, p.app_id`)
	if err != nil {
		return nil, fmt.Errorf("store: list projects: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Project])
	if err != nil {
		return nil, fmt.Errorf("store: list projects: %w", err)
	}
	return ps, nil
}

// ProjectByAppID returns the live project with that AppID.
func (s *Store) ProjectByAppID(ctx context.Context, appID uint32) (Project, error) {
	return projectByAppID(ctx, s.pool, appID, "")
}

func projectByAppID(ctx context.Context, db dbtx, appID uint32, lock string) (Project, error) {
	rows, err := db.Query(ctx, `SELECT `+projectColumns+` FROM projects p WHERE p.app_id = $1 AND p.deleted_at IS NULL `+lock, int64(appID))
	if err != nil {
		return Project{}, fmt.Errorf("store: project %d: %w", appID, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Project])
	if errors.Is(err, pgx.ErrNoRows) {
		return Project{}, fmt.Errorf("store: project %d: %w", appID, ErrProjectNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: project %d: %w", appID, err)
	}
	return p, nil
}

// CreateProject stores a project and its first ServerSecret (version 1).
func (s *Store) CreateProject(ctx context.Context, in ProjectInput, secret []byte, actor Actor, origin Origin) (Project, error) {
	in.normalizeZego()
	v := validator{}
	in.validate(v)
	validateSecret(v, secret)
	if err := v.err(); err != nil {
		return Project{}, err
	}
	var p Project
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO projects (app_id, name, environment, default_ttl_seconds, max_ttl_seconds, publish_allowed,
				kick_on_revoke, zego_services, zego_region)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			int64(in.AppID), in.Name, in.Environment, int32(in.DefaultTTL/time.Second), int32(in.MaxTTL/time.Second), in.PublishAllowed,
			in.KickOnRevoke, in.ZegoServices, in.ZegoRegion).Scan(&id)
		if isUniqueViolation(err) {
			return &ValidationError{Fields: map[string]string{"app_id": fmt.Sprintf("a project with AppID %d already exists", in.AppID)}}
		}
		if err != nil {
			return fmt.Errorf("store: insert project: %w", err)
		}
		if err := s.insertSecret(ctx, tx, id, 1, secret, actor); err != nil {
			return err
		}
		if err := s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "project.create", Outcome: OutcomeSuccess, AppID: in.AppID, ProjectID: id,
			TargetType: "project", TargetID: fmt.Sprint(in.AppID),
			Details: in.zegoDetails(map[string]any{"name": in.Name, "environment": in.Environment, "default_ttl_seconds": int64(in.DefaultTTL / time.Second),
				"max_ttl_seconds": int64(in.MaxTTL / time.Second), "publish_allowed": in.PublishAllowed, "secret_version": 1}),
		}); err != nil {
			return err
		}
		p, err = projectByAppID(ctx, tx, in.AppID, "")
		return err
	})
	return p, err
}

// UpdateProject changes a project's name, environment and policy; its AppID
// and secret are not changed here.
func (s *Store) UpdateProject(ctx context.Context, appID uint32, in ProjectInput, actor Actor, origin Origin) (Project, error) {
	in.AppID = appID
	in.normalizeZego()
	v := validator{}
	in.validate(v)
	if err := v.err(); err != nil {
		return Project{}, err
	}
	var p Project
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := projectByAppID(ctx, tx, appID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE projects SET name = $2, environment = $3, default_ttl_seconds = $4, max_ttl_seconds = $5,
				publish_allowed = $6, kick_on_revoke = $7, zego_services = $8, zego_region = $9, updated_at = now() WHERE id = $1`,
			before.ID, in.Name, in.Environment, int32(in.DefaultTTL/time.Second), int32(in.MaxTTL/time.Second), in.PublishAllowed,
			in.KickOnRevoke, in.ZegoServices, in.ZegoRegion); err != nil {
			return fmt.Errorf("store: update project: %w", err)
		}
		if err := s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "project.update", Outcome: OutcomeSuccess, AppID: appID, ProjectID: before.ID,
			TargetType: "project", TargetID: fmt.Sprint(appID),
			Details: map[string]any{
				"before": map[string]any{"name": before.Name, "environment": before.Environment, "default_ttl_seconds": before.DefaultTTLSeconds, "max_ttl_seconds": before.MaxTTLSeconds, "publish_allowed": before.PublishAllowed,
					"kick_on_revoke": before.KickOnRevoke, "zego_services": before.ZegoServices, "zego_region": before.ZegoRegion},
				"after": in.zegoDetails(map[string]any{"name": in.Name, "environment": in.Environment, "default_ttl_seconds": int64(in.DefaultTTL / time.Second), "max_ttl_seconds": int64(in.MaxTTL / time.Second), "publish_allowed": in.PublishAllowed}),
			},
		}); err != nil {
			return err
		}
		p, err = projectByAppID(ctx, tx, appID, "")
		return err
	})
	return p, err
}

// SetProjectDisabled stops (or resumes) issuing for a project.
func (s *Store) SetProjectDisabled(ctx context.Context, appID uint32, disabled bool, actor Actor, origin Origin) error {
	action := "project.enable"
	if disabled {
		action = "project.disable"
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := projectByAppID(ctx, tx, appID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projects SET disabled = $2, updated_at = now() WHERE id = $1`, p.ID, disabled); err != nil {
			return fmt.Errorf("store: %s: %w", action, err)
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: action, Outcome: OutcomeSuccess,
			AppID: appID, ProjectID: p.ID, TargetType: "project", TargetID: fmt.Sprint(appID)})
	})
}

// DeleteProject removes a project from use: its secrets are destroyed, its
// token records and audit events stay. The AppID may then be added again.
func (s *Store) DeleteProject(ctx context.Context, appID uint32, actor Actor, origin Origin) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := projectByAppID(ctx, tx, appID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM project_secrets WHERE project_id = $1`, p.ID); err != nil {
			return fmt.Errorf("store: delete project secrets: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM api_key_projects WHERE project_id = $1`, p.ID); err != nil {
			return fmt.Errorf("store: delete project key scopes: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE projects SET deleted_at = now(), disabled = true, updated_at = now() WHERE id = $1`, p.ID); err != nil {
			return fmt.Errorf("store: delete project: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "project.delete", Outcome: OutcomeSuccess,
			AppID: appID, ProjectID: p.ID, TargetType: "project", TargetID: fmt.Sprint(appID), Details: map[string]any{"name": p.Name}})
	})
	if err == nil {
		s.forgetAPIKeys("*") // the project is no longer any key's
	}
	return err
}
