package ui_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"html"
	"net/url"
	"regexp"
	"testing"
)

// issueFormValues is a valid issue form for appID and userID.
func issueFormValues(appID, userID string) url.Values {
	return url.Values{"app_id": {appID}, "user_id": {userID}, "ttl": {"3600"}, "room_id": {"room-1"},
		"login": {"1"}, "publish": {"1"}, "stream_ids": {"s1\r\ns2\r\n"}, "mode": {"gcm"}}
}

var issuedTokenRe = regexp.MustCompile(`data-testid="issued-token">([^<]+)<`)

// issuedTokenIn returns the token shown on the issue result page.
func issuedTokenIn(t *testing.T, body string) string {
	t.Helper()
	m := issuedTokenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no issued-token element in the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// requireInBody stops the test unless body holds every one of wants.
func requireInBody(t *testing.T, body string, wants ...string) {
	t.Helper()
	expectIn(t, "page", body, wants...)
	if t.Failed() {
		t.FailNow()
	}
}

// requireNotInBody stops the test when body holds any of unwanted.
func requireNotInBody(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	expectNotIn(t, what, body, unwanted...)
	if t.Failed() {
		t.FailNow()
	}
}

// fingerprintOf is the token's SHA-256 as the store keeps it.
func fingerprintOf(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// sealGCMToken builds a GCM Token04 around any plaintext, such as one that
// is not claims JSON, which Generate refuses to make.
func sealGCMToken(t *testing.T, secret string, expire int64, plaintext []byte) string {
	t.Helper()
	block, err := aes.NewCipher([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := []byte("0123456789ab")
	ct := gcm.Seal(nil, nonce, plaintext, nil)
	b := binary.BigEndian.AppendUint64(nil, uint64(expire))
	b = binary.BigEndian.AppendUint16(b, uint16(len(nonce)))
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ct)))
	b = append(b, ct...)
	b = append(b, 1)
	return "04" + base64.StdEncoding.EncodeToString(b)
}

var auditRowRe = regexp.MustCompile(`data-testid="audit-row-(\d+)" data-action="([^"]+)"`)

// auditRow is one row of the audit page.
type auditRow struct{ ID, Action string }

// auditRowsIn lists the audit page's rows in page order.
func auditRowsIn(body string) []auditRow {
	var rows []auditRow
	for _, m := range auditRowRe.FindAllStringSubmatch(body, -1) {
		rows = append(rows, auditRow{ID: m[1], Action: m[2]})
	}
	return rows
}
