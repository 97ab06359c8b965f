package zego

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sign is the Signature of ZEGO's server API request scheme (version 2.0):
// the lowercase hex MD5 of AppId, SignatureNonce, ServerSecret and Timestamp
// written one after the other.
func Sign(appID uint32, nonce string, secret []byte, timestamp int64) string {
	h := md5.New()
	h.Write([]byte(strconv.FormatUint(uint64(appID), 10)))
	h.Write([]byte(nonce))
	h.Write(secret)
	h.Write([]byte(strconv.FormatInt(timestamp, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

// NewNonce draws a SignatureNonce: 16 hex characters from 8 random bytes.
func NewNonce() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Client calls ZEGO's server APIs.
type Client struct {
	// HTTP makes the requests; nil is a client with a 10-second timeout.
	HTTP *http.Client
	// BaseURL overrides the base URL of every product's server API (such
	// as a local stand-in's); empty means ZEGO's host for the project's region.
	BaseURL string
	// ServiceBaseURL overrides it for one product, before BaseURL.
	ServiceBaseURL map[string]string
	// Now is the clock that stamps requests; nil is time.Now.
	Now func() time.Time
}

// defaultTimeout bounds a call made without a Client.HTTP of its own.
const defaultTimeout = 10 * time.Second

// baseURL is where service's API is for region.
func (c *Client) baseURL(service, region string) string {
	if u := c.ServiceBaseURL[service]; u != "" {
		return u
	}
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return "https://" + Host(service, region) + "/"
}

// KickoutRequest asks to kick users out of a room of one product.
type KickoutRequest struct {
	AppID   uint32
	Secret  []byte // the project's ServerSecret, used only to sign
	Service string // ServiceRTC or ServiceZIM
	Region  string
	RoomID  string
	UserIDs []string // at most LimitsOf(Service).UsersPerCall
	Reason  string   // CustomReason, shown to the kicked user's app
}

// Answer is what ZEGO answered: its HTTP status and, when the body was
// ZEGO's JSON (HasCode), its Code, Message and RequestId.
type Answer struct {
	HTTPStatus int
	HasCode    bool
	Code       int64
	Message    string
	RequestID  string
}

// Kickout calls the product's kick-out action once. An error means there
// was no usable answer (network, timeout, a body that is not ZEGO's JSON);
// otherwise the answer says what ZEGO made of it, for Classify.
func (c *Client) Kickout(ctx context.Context, r KickoutRequest) (Answer, error) {
	if !ValidService(r.Service) {
		return Answer{}, fmt.Errorf("zego: unknown product %q", r.Service)
	}
	if n := len(r.UserIDs); n == 0 || n > LimitsOf(r.Service).UsersPerCall {
		return Answer{}, fmt.Errorf("zego: %s takes 1 to %d users a call, not %d", Action(r.Service), LimitsOf(r.Service).UsersPerCall, n)
	}
	nonce, err := NewNonce()
	if err != nil {
		return Answer{}, fmt.Errorf("zego: nonce: %w", err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := now().Unix()
	q := url.Values{}
	q.Set("Action", Action(r.Service))
	q.Set("AppId", strconv.FormatUint(uint64(r.AppID), 10))
	q.Set("SignatureNonce", nonce)
	q.Set("Timestamp", strconv.FormatInt(ts, 10))
	q.Set("SignatureVersion", "2.0")
	q.Set("Signature", Sign(r.AppID, nonce, r.Secret, ts))
	q.Set("RoomId", r.RoomID)
	q["UserId[]"] = r.UserIDs
	if r.Reason != "" {
		q.Set("CustomReason", r.Reason)
	}
	base := c.baseURL(r.Service, r.Region)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+sep+q.Encode(), nil)
	if err != nil {
		return Answer{}, fmt.Errorf("zego: %s: %w", Action(r.Service), withoutURL(err))
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout} // the default transport: connections are reused all the same
	}
	res, err := hc.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("zego: %s: %w", Action(r.Service), withoutURL(err))
	}
	defer res.Body.Close()
	a := Answer{HTTPStatus: res.StatusCode}
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return a, fmt.Errorf("zego: %s: read answer: %w", Action(r.Service), withoutURL(err))
	}
	var parsed struct {
		Code      *int64
		Message   string
		RequestID string `json:"RequestId"`
	}
	if err := json.Unmarshal(body, &parsed); err != nil || parsed.Code == nil {
		if res.StatusCode != http.StatusOK {
			return a, nil // a gateway's error page: the status says enough
		}
		return a, fmt.Errorf("zego: %s: HTTP %d with a body that is not ZEGO's JSON answer", Action(r.Service), res.StatusCode)
	}
	a.HasCode, a.Code, a.Message, a.RequestID = true, *parsed.Code, parsed.Message, parsed.RequestID
	return a, nil
}

// withoutURL drops the URL that net/http puts into its errors: the URL
// holds the request's signature, which must not reach a log or the audit
// trail.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
