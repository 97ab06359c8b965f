package token04

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotPrivilegePayload means a payload is not a privilege ("RTC room")
// payload; it wraps the cause.
var ErrNotPrivilegePayload = errors.New("token04: not a privilege payload")

// Privilege is the room-level authorisation a token can carry in its payload.
// An empty RoomID or StreamIDs means "no restriction" to ZEGO.
type Privilege struct {
	RoomID    string
	Login     bool
	Publish   bool
	StreamIDs []string // nil => JSON null
}

// The keys ZEGO gives the privileges in the payload.
const (
	privilegeLogin   = "1"
	privilegePublish = "2"
)

// Payload renders {"room_id":..,"privilege":{"1":0|1,"2":0|1},"stream_id_list":[..]|null},
// the shape of the official samples (HTML characters are left alone: the payload is
// escaped again when it goes into the claims JSON).
func (p Privilege) Payload() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding strings, ints and a string slice cannot fail.
	_ = enc.Encode(struct {
		RoomID     string         `json:"room_id"`
		Privilege  privilegeFlags `json:"privilege"`
		StreamList []string       `json:"stream_id_list"`
	}{p.RoomID, privilegeFlags{bit(p.Login), bit(p.Publish)}, p.StreamIDs})
	return strings.TrimSuffix(b.String(), "\n")
}

type privilegeFlags struct {
	Login   int `json:"1"`
	Publish int `json:"2"`
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ParsePrivilege parses a privilege payload; errors (never panics) on anything else: ErrNotPrivilegePayload wrapping the cause.
//
// It accepts the shape Payload renders in any key order and JSON escaping,
// with stream_id_list also allowed to be absent (= null). Anything else is
// refused rather than guessed at, so that what the console shows is exactly
// what ZEGO enforces: unknown keys, a missing room_id or privilege, privilege
// keys other than "1" and "2" or either of them missing, and values other than 0 or 1.
func ParsePrivilege(payload string) (Privilege, error) {
	p, err := parsePrivilege(payload)
	if err != nil {
		return Privilege{}, fmt.Errorf("%w: %w", ErrNotPrivilegePayload, err)
	}
	return p, nil
}

func parsePrivilege(payload string) (Privilege, error) {
	if payload == "" {
		return Privilege{}, errors.New("empty payload")
	}
	if !utf8.ValidString(payload) { // encoding/json would replace the bad bytes silently
		return Privilege{}, errors.New("payload is not UTF-8")
	}
	top, err := object([]byte(payload), "room_id", "privilege", "stream_id_list")
	if err != nil {
		return Privilege{}, err
	}
	var p Privilege
	room, ok := top["room_id"]
	if !ok || len(room) == 0 || room[0] != '"' {
		return Privilege{}, errors.New(`"room_id" must be a string`)
	}
	if err := json.Unmarshal(room, &p.RoomID); err != nil {
		return Privilege{}, err
	}
	flags, ok := top["privilege"]
	if !ok {
		return Privilege{}, errors.New(`missing "privilege"`)
	}
	privileges, err := object(flags, privilegeLogin, privilegePublish)
	if err != nil {
		return Privilege{}, fmt.Errorf(`"privilege": %w`, err)
	}
	if p.Login, err = flag(privileges, privilegeLogin); err != nil {
		return Privilege{}, err
	}
	if p.Publish, err = flag(privileges, privilegePublish); err != nil {
		return Privilege{}, err
	}
	if streams, ok := top["stream_id_list"]; ok && !bytes.Equal(streams, []byte("null")) {
		if streams[0] != '[' {
			return Privilege{}, errors.New(`"stream_id_list" must be a list of strings or null`)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(streams, &items); err != nil {
			return Privilege{}, fmt.Errorf(`"stream_id_list": %w`, err)
		}
		p.StreamIDs = make([]string, len(items)) // [] stays an empty list, not null
		for i, item := range items {
			// encoding/json would quietly turn null into "", which is not a stream id.
			if item[0] != '"' {
				return Privilege{}, fmt.Errorf(`"stream_id_list"[%d] is %s, want a string`, i, item)
			}
			if err := json.Unmarshal(item, &p.StreamIDs[i]); err != nil {
				return Privilege{}, err
			}
		}
	}
	return p, nil
}

// object reads a JSON object whose keys must all be among allowed (matched exactly).
func object(data []byte, allowed ...string) (map[string]json.RawMessage, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	for key := range fields {
		found := false
		for _, a := range allowed {
			found = found || key == a
		}
		if !found {
			return nil, fmt.Errorf("unknown key %q", key)
		}
	}
	return fields, nil
}

func flag(privileges map[string]json.RawMessage, key string) (bool, error) {
	switch string(privileges[key]) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	case "":
		return false, fmt.Errorf("missing privilege %q", key)
	}
	return false, fmt.Errorf("privilege %q is %s, want 0 or 1", key, privileges[key])
}
