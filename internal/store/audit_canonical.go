package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// The hash chain: hash = SHA-256(prev_hash || canonical(event)), with 32 zero
// bytes before the first event. The canonical form is a fixed sequence of
// fixed-width integers and length-prefixed byte strings, so that no two
// different events encode alike: moving bytes from one field to the next
// changes a length. Changing anything here breaks every chain already written:
// a new layout needs a new version tag and verification that knows both.
//
// Each event row says its layout (canonical_version, stamped by the database):
// 1 for the events written before migration 00005, 2 since. Layout 2 is
// layout 1 followed by the project id, and the version is in the opening tag,
// so that neither a project id nor a version can be changed unnoticed.

// canonicalTagPrefix opens every canonical event; the layout's version and a
// NUL byte follow.
const canonicalTagPrefix = "zego-console audit event v"

// currentCanonicalVersion is the layout in which events written now are
// hashed: migrations/00005 makes it the default of
// audit_events.canonical_version.
const currentCanonicalVersion = 2

// checkpointTag opens the message a checkpoint or chain head MAC covers.
const checkpointTag = "zego-console audit checkpoint v1\x00"

// genesisHash is the prev_hash of chain_seq 1.
var genesisHash = make([]byte, sha256.Size)

// appendCanonical appends the canonical encoding of e at chain position seq.
// Details must be the jsonb text exactly as PostgreSQL returns it: jsonb is
// stored normalised, so the text is stable for a given value.
// A version other than 1 and 2 gets a tag of its own and layout 2: its hash
// matches nothing stored, and verification reports the event as changed.
func appendCanonical(dst []byte, seq int64, e *AuditEvent) []byte {
	dst = append(dst, canonicalTagPrefix...)
	dst = strconv.AppendInt(dst, int64(e.CanonicalVersion), 10)
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(seq))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.ID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.OccurredAt.UnixMicro()))
	dst = appendField(dst, e.ActorType)
	dst = appendField(dst, e.ActorID)
	dst = appendField(dst, e.ActorName)
	dst = appendField(dst, e.Action)
	dst = appendField(dst, e.Outcome)
	dst = appendOptInt(dst, e.AppID)
	dst = appendField(dst, e.TargetType)
	dst = appendField(dst, e.TargetID)
	dst = appendField(dst, e.RequestID)
	dst = appendField(dst, e.ClientIP)
	dst = appendField(dst, e.UserAgent)
	dst = appendField(dst, e.Details)
	if e.TokenFingerprint == nil {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = appendField(dst, e.TokenFingerprint)
	}
	if e.CanonicalVersion == 1 {
		return dst
	}
	return appendOptInt(dst, e.ProjectID)
}

// appendOptInt appends 0 for nil, or 1 and the value.
func appendOptInt(dst []byte, v *int64) []byte {
	if v == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return binary.BigEndian.AppendUint64(dst, uint64(*v))
}

// appendField appends a uint32 length and then the bytes.
func appendField[T ~string | ~[]byte](dst []byte, v T) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
	return append(dst, v...)
}

// chainHasher computes event hashes, reusing one buffer so that hashing a
// long chain allocates nothing per event.
type chainHasher struct {
	buf []byte
}

// sum returns SHA-256(prev || canonical(seq, e)).
func (h *chainHasher) sum(prev []byte, seq int64, e *AuditEvent) [sha256.Size]byte {
	h.buf = append(h.buf[:0], prev...)
	h.buf = appendCanonical(h.buf, seq, e)
	return sha256.Sum256(h.buf)
}

// checkpointMAC signs a chain position: HMAC-SHA256 over the kind
// ("periodic", "prune" or "head"), the sequence number and the hash there.
func checkpointMAC(key []byte, kind string, seq int64, hash []byte) []byte {
	m := hmac.New(sha256.New, key)
	var msg []byte
	msg = append(msg, checkpointTag...)
	msg = appendField(msg, kind)
	msg = binary.BigEndian.AppendUint64(msg, uint64(seq))
	msg = appendField(msg, hash)
	m.Write(msg)
	return m.Sum(nil)
}

// checkpointMACValid tells whether mac signs (kind, seq, hash) under any of keys.
func checkpointMACValid(keys [][]byte, kind string, seq int64, hash, mac []byte) bool {
	for _, k := range keys {
		if hmac.Equal(checkpointMAC(k, kind, seq, hash), mac) {
			return true
		}
	}
	return false
}
