package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// auditHash is the chain hash of e at seq after prev, as the tests that
// forge events the way an attacker who knows the algorithm would need it.
func auditHash(prev []byte, seq int64, e *AuditEvent) []byte {
	var h chainHasher
	sum := h.sum(prev, seq, e)
	return sum[:]
}

// canonicalTestEvent is an event of layout 1, as written before events
// named their project.
func canonicalTestEvent() AuditEvent {
	app := int64(1234567)
	return AuditEvent{CanonicalVersion: 1,
		ID: 42, OccurredAt: time.Date(2024, 5, 1, 13, 30, 0, 123456000, time.UTC),
		ActorType: "operator", ActorID: "7", ActorName: "alice", Action: "token.issue", Outcome: "success",
		AppID: &app, TargetType: "token", TargetID: "9b7c0d2e-0000-4000-8000-000000000001", RequestID: "req-1",
		ClientIP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/125.0",
		Details:          json.RawMessage(`{"ttl": 3600, "room_id": "r1", "user_id": "u1", "privilege": {"1": 1, "2": 0}}`),
		TokenFingerprint: bytes.Repeat([]byte{0xab}, 32),
	}
}

// canonicalTestEventV2 is the reference event in layout 2, about project 77.
func canonicalTestEventV2() AuditEvent {
	e := canonicalTestEvent()
	project := int64(77)
	e.CanonicalVersion, e.ProjectID = 2, &project
	return e
}

// The layouts are part of every stored chain: these golden values change
// only with a deliberate new canonical version.
func TestAuditCanonicalHash_IsStable(t *testing.T) {
	v1, v2 := canonicalTestEvent(), canonicalTestEventV2()
	for _, c := range []struct {
		name string
		e    AuditEvent
		want string
	}{
		{"layout 1", v1, "6699a2bf637c87e8dcb9ec02b7778723816d066cf68254c55f0db528d8cea20a"},
		{"layout 2", v2, "c40738a06c96a12fa9196056e08a43ab30a585ae0d36baefaa4e0113ad9d1cb3"},
	} {
		if got := hex.EncodeToString(auditHash(genesisHash, 1, &c.e)); got != c.want {
			t.Errorf("hash of the reference event in %s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestAuditCanonicalHash_EveryFieldCounts(t *testing.T) {
	for _, base := range []AuditEvent{canonicalTestEvent(), canonicalTestEventV2()} {
		t.Run(fmt.Sprintf("layout %d", base.CanonicalVersion), func(t *testing.T) {
			everyFieldCounts(t, base)
		})
	}
}

func everyFieldCounts(t *testing.T, base AuditEvent) {
	ref := auditHash(genesisHash, 1, &base)
	other := int64(1)
	mutations := map[string]func(e *AuditEvent){
		"id":                 func(e *AuditEvent) { e.ID++ },
		"occurred_at":        func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.Add(time.Microsecond) },
		"actor_type":         func(e *AuditEvent) { e.ActorType = "cli" },
		"actor_id":           func(e *AuditEvent) { e.ActorID = "8" },
		"actor_name":         func(e *AuditEvent) { e.ActorName = "bob" },
		"action":             func(e *AuditEvent) { e.Action = "token.revoke" },
		"outcome":            func(e *AuditEvent) { e.Outcome = "denied" },
		"app_id value":       func(e *AuditEvent) { e.AppID = &other },
		"app_id absent":      func(e *AuditEvent) { e.AppID = nil },
		"target_type":        func(e *AuditEvent) { e.TargetType = "project" },
		"target_id":          func(e *AuditEvent) { e.TargetID = "x" },
		"request_id":         func(e *AuditEvent) { e.RequestID = "req-2" },
		"client_ip":          func(e *AuditEvent) { e.ClientIP = "192.0.2.2" },
		"user_agent":         func(e *AuditEvent) { e.UserAgent = "curl" },
		"details":            func(e *AuditEvent) { e.Details = json.RawMessage(`{}`) },
		"fingerprint absent": func(e *AuditEvent) { e.TokenFingerprint = nil },
		"fingerprint empty":  func(e *AuditEvent) { e.TokenFingerprint = []byte{} },
		// Bytes moved from one field to the next must not encode alike.
		"boundary": func(e *AuditEvent) { e.ActorID, e.ActorName = e.ActorID+"a", e.ActorName[1:] },
		// The version is in the tag: an event cannot be passed off as the other layout.
		"canonical_version": func(e *AuditEvent) { e.CanonicalVersion = 3 - e.CanonicalVersion },
	}
	if base.CanonicalVersion == 2 {
		mutations["project_id value"] = func(e *AuditEvent) { e.ProjectID = &other }
		mutations["project_id absent"] = func(e *AuditEvent) { e.ProjectID = nil }
	}
	for name, mutate := range mutations {
		e := base
		mutate(&e)
		if bytes.Equal(auditHash(genesisHash, 1, &e), ref) {
			t.Errorf("%s: changing it left the hash unchanged", name)
		}
	}
	if bytes.Equal(auditHash(genesisHash, 2, &base), ref) {
		t.Error("chain_seq: changing it left the hash unchanged")
	}
	if bytes.Equal(auditHash(bytes.Repeat([]byte{1}, 32), 1, &base), ref) {
		t.Error("prev_hash: changing it left the hash unchanged")
	}
}

func TestCheckpointMAC_BindsKindSeqAndHash(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	hash := bytes.Repeat([]byte{3}, 32)
	mac := checkpointMAC(key, "periodic", 10, hash)
	if !checkpointMACValid([][]byte{bytes.Repeat([]byte{8}, 32), key}, "periodic", 10, hash, mac) {
		t.Fatal("a MAC made with the second key does not verify")
	}
	for name, ok := range map[string]bool{
		"kind":  checkpointMACValid([][]byte{key}, "prune", 10, hash, mac),
		"seq":   checkpointMACValid([][]byte{key}, "periodic", 11, hash, mac),
		"hash":  checkpointMACValid([][]byte{key}, "periodic", 10, bytes.Repeat([]byte{4}, 32), mac),
		"key":   checkpointMACValid([][]byte{bytes.Repeat([]byte{8}, 32)}, "periodic", 10, hash, mac),
		"empty": checkpointMACValid(nil, "periodic", 10, hash, mac),
	} {
		if ok {
			t.Errorf("changing the %s still verifies", name)
		}
	}
}

func BenchmarkAuditCanonicalHash(b *testing.B) {
	e := canonicalTestEvent()
	var h chainHasher
	prev := make([]byte, 32)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sum := h.sum(prev, int64(i), &e)
		prev = prev[:0]
		prev = append(prev, sum[:]...)
	}
}
