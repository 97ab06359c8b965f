package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProjectStats counts the tokens of one live project for the dashboard.
type ProjectStats struct {
	AppID       int64  `db:"app_id"`
	Name        string `db:"name"`
	Environment string `db:"environment"`
	Disabled    bool   `db:"disabled"`
	Issued24h   int64  `db:"issued_24h"` // issued in the last 24 hours
	Issued7d    int64  `db:"issued_7d"`  // issued in the last 7 days
	Active      int64  `db:"active"`     // neither expired nor revoked
	Revoked     int64  `db:"revoked"`
}

// DailyCount is the number of tokens issued on one UTC day.
type DailyCount struct {
	Day   time.Time `db:"day"` // midnight UTC
	Count int64     `db:"count"`
}

// ProjectStats returns token counts for every live project, ordered like
// ListProjects. Times are the database's, so every instance agrees.
func (s *Store) ProjectStats(ctx context.Context) ([]ProjectStats, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT p.app_id, p.name, p.environment, p.disabled,
			count(t.id) FILTER (WHERE t.ctime > now() - interval '24 hours') AS issued_24h,
			count(t.id) FILTER (WHERE t.ctime > now() - interval '7 days') AS issued_7d,
			count(t.id) FILTER (WHERE t.revoked_at IS NULL AND t.expire > now()) AS active,
			count(t.id) FILTER (WHERE t.revoked_at IS NOT NULL) AS revoked
		FROM projects p LEFT JOIN issued_tokens t ON t.project_id = p.id
		WHERE p.deleted_at IS NULL
		GROUP BY p.id
		ORDER BY p.name, p.app_id`)
	if err != nil {
		return nil, fmt.Errorf("store: project stats: %w", err)
	}
	stats, err := pgx.CollectRows(rows, pgx.RowToStructByName[ProjectStats])
	if err != nil {
		return nil, fmt.Errorf("store: project stats: %w", err)
	}
	return stats, nil
}

// IssuedPerDay returns how many tokens were issued on each of the last days
// days of the zone loc (nil: UTC), today included, oldest first, with zero
// for quiet days, for the live project with appID. appID 0 counts every
// project (deleted ones too: their tokens were issued). Each day starts at
// midnight in loc.
func (s *Store) IssuedPerDay(ctx context.Context, appID uint32, days int, loc *time.Location) ([]DailyCount, error) {
	if appID == 0 {
		return s.IssuedPerDayIn(ctx, nil, days, loc)
	}
	return s.IssuedPerDayIn(ctx, []uint32{appID}, days, loc)
}

// IssuedPerDayIn is IssuedPerDay over the projects appIDs (nil: every
// project; empty: none), for a person who reaches only some.
func (s *Store) IssuedPerDayIn(ctx context.Context, appIDs []uint32, days int, loc *time.Location) ([]DailyCount, error) {
	var apps []int64 // nil: every project
	if appIDs != nil {
		apps = make([]int64, len(appIDs))
		for i, id := range appIDs {
			apps[i] = int64(id)
		}
	}
	if days < 1 || days > 366 {
		return nil, fmt.Errorf("store: issued per day: days must be 1 to 366, got %d", days)
	}
	if loc == nil {
		loc = time.UTC
	}
	// The days are the zone's calendar days (23 or 25 hours long where
	// clocks change), counted in the zone PostgreSQL knows by the same name.
	rows, err := s.pool.Query(ctx, `
		WITH d AS (
			SELECT generate_series(date_trunc('day', now() AT TIME ZONE $3) - ($1::int - 1) * interval '1 day',
				date_trunc('day', now() AT TIME ZONE $3), interval '1 day') AS day
		)
		SELECT d.day AT TIME ZONE $3 AS day, count(t.id) AS count
		FROM d LEFT JOIN issued_tokens t
			ON t.ctime >= d.day AT TIME ZONE $3 AND t.ctime < (d.day + interval '1 day') AT TIME ZONE $3
			AND ($2::bigint[] IS NULL OR t.project_id IN (SELECT id FROM projects WHERE app_id = ANY($2) AND deleted_at IS NULL))
		GROUP BY d.day
		ORDER BY d.day`, days, apps, loc.String())
	if err != nil {
		return nil, fmt.Errorf("store: issued per day: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByName[DailyCount])
	if err != nil {
		return nil, fmt.Errorf("store: issued per day: %w", err)
	}
	for i := range counts {
		counts[i].Day = counts[i].Day.In(loc)
	}
	return counts, nil
}
