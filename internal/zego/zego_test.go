package zego_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/zego"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

const (
	testApp    = 1234567890
	testSecret = "0123456789abcdef0123456789abcdef"
)

func TestSign_IsTheMD5OfAppIDNonceSecretAndTimestampInHex(t *testing.T) {
	t.Parallel()
	// printf '%s' '1234567890abcdef0123456789abcdef0123456789abcdef1700000000' | md5sum
	got := zego.Sign(testApp, "abcdef0123456789", []byte("abcdef0123456789abcdef"), 1700000000)
	if want := "d0d67a0729b8b861c02cf1fda9f2efe9"; got != want {
		t.Fatalf("got signature %s, want %s", got, want)
	}
	n, err := zego.NewNonce()
	if err != nil || len(n) != 16 || strings.Trim(n, "0123456789abcdef") != "" {
		t.Fatalf("got nonce %q, %v; want 16 lowercase hex characters", n, err)
	}
}

func TestHost_NamesEachProductAndRegion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ service, region, want string }{
		{zego.ServiceRTC, zego.RegionGlobal, "rtc-api.zego.im"},
		{zego.ServiceRTC, "", "rtc-api.zego.im"},
		{zego.ServiceZIM, zego.RegionGlobal, "zim-api.zego.im"},
		{zego.ServiceRTC, "sha", "rtc-api-sha.zego.im"},
		{zego.ServiceZIM, "sgp", "zim-api-sgp.zego.im"},
	} {
		if got := zego.Host(tc.service, tc.region); got != tc.want {
			t.Errorf("Host(%q, %q): got %q, want %q", tc.service, tc.region, got, tc.want)
		}
	}
}

func TestClassify_DoneRetryOrFailed(t *testing.T) {
	t.Parallel()
	netErr := errors.New("connection refused")
	for _, tc := range []struct {
		name string
		a    zego.Answer
		err  error
		want zego.Outcome
	}{
		{"success", zego.Answer{HTTPStatus: 200, Code: 0}, nil, zego.OutcomeDone},
		{"RTC room gone: the user is not in it", zego.Answer{HTTPStatus: 200, Code: 104}, nil, zego.OutcomeDone},
		{"ZIM user not logged in", zego.Answer{HTTPStatus: 200, Code: 51102}, nil, zego.OutcomeDone},
		{"network error", zego.Answer{}, netErr, zego.OutcomeRetry},
		{"HTTP 503", zego.Answer{HTTPStatus: 503}, nil, zego.OutcomeRetry},
		{"HTTP 429", zego.Answer{HTTPStatus: 429}, nil, zego.OutcomeRetry},
		{"busy", zego.Answer{HTTPStatus: 200, Code: 1}, nil, zego.OutcomeRetry},
		{"rate limited", zego.Answer{HTTPStatus: 200, Code: 7}, nil, zego.OutcomeRetry},
		{"RTC rate limited", zego.Answer{HTTPStatus: 200, Code: 206}, nil, zego.OutcomeRetry},
		{"signature expired (clock skew)", zego.Answer{HTTPStatus: 200, Code: 100000004}, nil, zego.OutcomeRetry},
		{"wrong signature", zego.Answer{HTTPStatus: 200, Code: 100000005}, nil, zego.OutcomeFail},
		{"bad parameter", zego.Answer{HTTPStatus: 200, Code: 2}, nil, zego.OutcomeFail},
		{"HTTP 404", zego.Answer{HTTPStatus: 404}, nil, zego.OutcomeFail},
	} {
		if got := zego.Classify(tc.a, tc.err); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestKickout_TheFakeAcceptsOurSignatureAndRefusesAWrongSecretWithZEGOsCode(t *testing.T) {
	t.Parallel()
	fake := zegotest.New(t, map[uint32]string{testApp: testSecret})
	c := &zego.Client{BaseURL: fake.URL}
	for _, service := range zego.Services {
		a, err := c.Kickout(t.Context(), zego.KickoutRequest{AppID: testApp, Secret: []byte(testSecret), Service: service,
			RoomID: "room-1", UserIDs: []string{"alice", "bob"}, Reason: "token revoked"})
		if err != nil || a.HTTPStatus != 200 || a.Code != 0 || a.RequestID == "" {
			t.Fatalf("%s: got %+v, %v; want HTTP 200, Code 0 and a RequestId", service, a, err)
		}
		a, err = c.Kickout(t.Context(), zego.KickoutRequest{AppID: testApp, Secret: []byte("fedcba9876543210fedcba9876543210"),
			Service: service, RoomID: "room-1", UserIDs: []string{"alice"}})
		if err != nil || a.Code != zego.CodeBadSignature || zego.Classify(a, err) != zego.OutcomeFail {
			t.Fatalf("%s with a wrong secret: got %+v, %v; want Code %d, failed", service, a, err, zego.CodeBadSignature)
		}
	}
	kicks := fake.Kicks()
	if len(kicks) != 2 || kicks[0].Service != zego.ServiceRTC || kicks[1].Service != zego.ServiceZIM ||
		strings.Join(kicks[0].UserIDs, ",") != "alice,bob" || kicks[0].Reason != "token revoked" {
		t.Fatalf("got kicks %+v, want alice and bob kicked from room-1 once in RTC, once in ZIM", kicks)
	}
}

func TestKickout_RefusesMoreUsersThanACallTakes(t *testing.T) {
	t.Parallel()
	c := &zego.Client{BaseURL: "http://127.0.0.1:1/"}
	_, err := c.Kickout(t.Context(), zego.KickoutRequest{AppID: testApp, Secret: []byte(testSecret), Service: zego.ServiceRTC,
		RoomID: "r", UserIDs: []string{"1", "2", "3", "4", "5", "6"}})
	if err == nil || !strings.Contains(err.Error(), "1 to 5 users") {
		t.Fatalf("got %v, want a refusal of 6 users for RTC", err)
	}
}

func TestKickout_ErrorsNeverCarryTheSignature(t *testing.T) {
	t.Parallel()
	fake := zegotest.New(t, map[uint32]string{testApp: testSecret})
	fake.FailNext(zegotest.Hang)
	c := &zego.Client{BaseURL: fake.URL, HTTP: &http.Client{Timeout: 200 * time.Millisecond}}
	_, err := c.Kickout(context.Background(), zego.KickoutRequest{AppID: testApp, Secret: []byte(testSecret),
		Service: zego.ServiceZIM, RoomID: "room-1", UserIDs: []string{"alice"}})
	calls := fake.Calls()
	if err == nil || len(calls) != 1 {
		t.Fatalf("got %v after %d calls, want a timeout after one", err, len(calls))
	}
	if strings.Contains(err.Error(), calls[0].Signature) || strings.Contains(err.Error(), "Signature") {
		t.Fatalf("error %q carries the request's signature", err)
	}
	if zego.Classify(zego.Answer{}, err) != zego.OutcomeRetry {
		t.Fatalf("a timeout is not retried")
	}
}

func TestFake_RefusesCallsBeyondTheDocumentedRate(t *testing.T) {
	t.Parallel()
	now := time.Now() // every call arrives within the same second
	fake := zegotest.New(t, map[uint32]string{testApp: testSecret}, zegotest.WithClock(func() time.Time { return now }))
	c := &zego.Client{BaseURL: fake.URL}
	limit := zego.LimitsOf(zego.ServiceZIM).CallsPerSecond
	var codes []int64
	for range limit + 1 {
		a, err := c.Kickout(t.Context(), zego.KickoutRequest{AppID: testApp, Secret: []byte(testSecret),
			Service: zego.ServiceZIM, RoomID: "r", UserIDs: []string{"u"}})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, a.Code)
	}
	if codes[limit-1] != 0 || codes[limit] != zego.CodeRateLimited {
		t.Fatalf("got codes %v, want %d successes then %d", codes, limit, zego.CodeRateLimited)
	}
}
