package token04

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// officialVector is one token made by an official ZEGO generator, with its
// inputs and the claims it must decode to.
type officialVector struct {
	Generator string `json:"generator"`
	Mode      string `json:"mode"`
	AppID     uint32 `json:"app_id"`
	UserID    string `json:"user_id"`
	Secret    string `json:"secret"`
	Effective int64  `json:"effective_time_in_seconds"`
	Payload   string `json:"payload"`
	Token     string `json:"token"`
	Claims    Claims `json:"claims"`
}

// officialVectorsPath is the repository's copy of the tokens made by ZEGO's
// official generators (see testdata/README.md).
const officialVectorsPath = "testdata/official-vectors.json"

func loadOfficialVectors(tb testing.TB) []officialVector {
	tb.Helper()
	data, err := os.ReadFile(officialVectorsPath)
	if err != nil {
		tb.Fatalf("read official vectors: %v", err)
	}
	var file struct {
		Vectors []officialVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatalf("parse official vectors: %v", err)
	}
	if len(file.Vectors) < 28 {
		tb.Fatalf("got %d official vectors, want at least 28", len(file.Vectors))
	}
	return file.Vectors
}

func TestDecode_AcceptsEveryOfficialVector(t *testing.T) {
	t.Parallel()
	for i, v := range loadOfficialVectors(t) {
		t.Run(v.Generator+"/"+v.UserID, func(t *testing.T) {
			t.Parallel()
			d, err := Decode(v.Token, []byte(v.Secret), DecodeOptions{
				Now:         time.Unix(v.Claims.CTime+1, 0),
				ExpectAppID: v.AppID,
			})
			if err != nil {
				t.Fatalf("vector %d: got error %v, want none", i, err)
			}
			if d.Claims != v.Claims {
				t.Errorf("vector %d: got claims %+v, want %+v", i, d.Claims, v.Claims)
			}
			if d.Mode.String() != v.Mode {
				t.Errorf("vector %d: got mode %v, want %v", i, d.Mode, v.Mode)
			}
			if d.Claims.Expire-d.Claims.CTime != v.Effective {
				t.Errorf("vector %d: got lifetime %d, want %d", i, d.Claims.Expire-d.Claims.CTime, v.Effective)
			}
		})
	}
}

func TestDecode_OfficialVectorsExpireAtTheirExpiry(t *testing.T) {
	t.Parallel()
	for i, v := range loadOfficialVectors(t) {
		d, err := Decode(v.Token, []byte(v.Secret), DecodeOptions{Now: time.Unix(v.Claims.Expire, 0)})
		if !errors.Is(err, ErrExpired) {
			t.Errorf("vector %d at its expire: got %v, want %v", i, err, ErrExpired)
		}
		if d.Claims != v.Claims {
			t.Errorf("vector %d: got claims %+v with the expiry error, want %+v", i, d.Claims, v.Claims)
		}
	}
}

func TestDecode_OfficialVectorsRefuseAnotherSecret(t *testing.T) {
	t.Parallel()
	wrong := []byte("00000000000000000000000000000000")
	for i, v := range loadOfficialVectors(t) {
		_, err := Decode(v.Token, wrong, DecodeOptions{Now: time.Unix(v.Claims.CTime+1, 0)})
		if !errors.Is(err, ErrAuthentication) {
			t.Errorf("vector %d with a wrong secret: got %v, want %v", i, err, ErrAuthentication)
		}
	}
}

func TestParsePrivilege_ReadsOfficialPayloads(t *testing.T) {
	t.Parallel()
	for i, v := range loadOfficialVectors(t) {
		if !strings.HasPrefix(v.Payload, "{") { // some vectors carry an opaque payload
			continue
		}
		p, err := ParsePrivilege(v.Payload)
		if err != nil {
			t.Errorf("vector %d payload %s: got error %v, want none", i, v.Payload, err)
			continue
		}
		// The official samples render the payload exactly as Payload does.
		if got := p.Payload(); got != v.Payload {
			t.Errorf("vector %d: got %s after a round trip, want %s", i, got, v.Payload)
		}
	}
}
