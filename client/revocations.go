package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Revocation is a revoked token as the feed shows it.
type Revocation struct {
	Seq         int64     `json:"seq"` // its place in the feed, in commit order
	AppID       uint32    `json:"app_id"`
	TokenID     string    `json:"token_id"`
	Fingerprint string    `json:"fingerprint"` // SHA-256 of the token, hex
	UserID      string    `json:"user_id"`
	RoomID      string    `json:"room_id"`
	Expire      time.Time `json:"expire"`
	RevokedAt   time.Time `json:"revoked_at"`
}

// RevocationPage is one answer of the feed.
type RevocationPage struct {
	Revocations []Revocation
	Cursor      int64 // pass as after to read on
}

// RevocationSnapshot is every revocation of an unexpired token of the key's
// projects, and the seq to follow the feed from.
type RevocationSnapshot struct {
	Seq         int64        `json:"seq"`
	Revocations []Revocation `json:"revocations"`
}

// Revocations reads the revocations of the key's projects after the cursor
// after; with wait > 0 the console holds the request until one comes or wait
// passes (at most a minute). An *Error of KindCursorGone means the feed no
// longer holds what follows after: load RevocationSnapshot again.
func (c *Client) Revocations(ctx context.Context, after int64, wait time.Duration) (*RevocationPage, error) {
	v := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if wait > 0 {
		v.Set("wait", wait.Round(time.Second).String())
	}
	res, err := c.send(ctx, http.MethodGet, "/api/v1/revocations", v, nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	page := &RevocationPage{}
	if page.Cursor, err = strconv.ParseInt(res.Header.Get("Revocation-Cursor"), 10, 64); err != nil {
		return nil, fmt.Errorf("console: revocation feed: no Revocation-Cursor in the answer")
	}
	err = eachLine(res.Body, func(line []byte) error {
		var r Revocation
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("console: revocation feed: %w", err)
		}
		page.Revocations = append(page.Revocations, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// RevocationSnapshot loads every revocation of an unexpired token of the
// key's projects.
func (c *Client) RevocationSnapshot(ctx context.Context) (*RevocationSnapshot, error) {
	var out RevocationSnapshot
	if err := c.call(ctx, http.MethodGet, "/api/v1/revocations/snapshot", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
