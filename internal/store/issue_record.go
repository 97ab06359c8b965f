package store

import (
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// tokenIssue is what is known of a token once it is made: enough for its
// record and its token.issue audit event.
type tokenIssue struct {
	id          string
	project     Project // SecretVersion is the version that sealed the token
	userID      string
	privilege   *token04.Privilege // nil: no privilege payload
	ctime       time.Time          // whole seconds, as in the claims
	ttl         time.Duration
	nonce       int32
	fingerprint []byte
	mode        token04.Mode
	channel     string
	actor       Actor
	origin      Origin
}

// recordAndEvent builds the token's record and its token.issue event: the
// one description of an issued token, which IssueToken writes, the
// benchmark ceiling measures and the development seed imitates.
func (ti tokenIssue) recordAndEvent() (TokenRecord, Event) {
	ctime := ti.ctime.UTC()
	rec := TokenRecord{
		ID: ti.id, ProjectID: ti.project.ID, AppID: ti.project.AppID, SecretVersion: ti.project.SecretVersion,
		UserID: ti.userID, CTime: ctime, Expire: ctime.Add(ti.ttl), Nonce: ti.nonce,
		Fingerprint: ti.fingerprint, Mode: ti.mode.String(), Channel: ti.channel,
		IssuedByType: ti.actor.Type, IssuedByID: ti.actor.ID, IssuedByName: ti.actor.Name, ClientIP: ti.origin.ClientIP,
	}
	details := map[string]any{"token_id": rec.ID, "user_id": rec.UserID, "ttl_seconds": int64(ti.ttl / time.Second),
		"expire": rec.Expire.Format(time.RFC3339), "mode": rec.Mode, "channel": rec.Channel, "secret_version": rec.SecretVersion}
	if p := ti.privilege; p != nil {
		rec.RoomID, rec.StreamIDs = p.RoomID, p.StreamIDs
		rec.PrivilegeLogin, rec.PrivilegePublish = &p.Login, &p.Publish
		details["room_id"], details["privileges"], details["stream_ids"] = p.RoomID, rec.PrivilegeNames(), p.StreamIDs
	}
	return rec, Event{Actor: ti.actor, Origin: ti.origin, Action: "token.issue", Outcome: OutcomeSuccess,
		AppID: uint32(rec.AppID), ProjectID: rec.ProjectID, TargetType: "token", TargetID: rec.ID, Details: details,
		TokenFingerprint: rec.Fingerprint}
}
