package web

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// Second-factor policies (CONSOLE_MFA): who must have a second factor to
// sign in with a password.
const (
	MFAOptional = "optional"
	MFAAdmins   = "admins"
	MFAAll      = "all"
)

// DefaultStepUpAge is how recently a person must have proved who they are
// before a dangerous action, unless CONSOLE_STEPUP_AGE says otherwise.
const DefaultStepUpAge = 5 * time.Minute

// ValidMFAPolicy tells whether policy is one CONSOLE_MFA accepts.
func ValidMFAPolicy(policy string) bool {
	return policy == MFAOptional || policy == MFAAdmins || policy == MFAAll
}

// MustHaveSecondFactor tells whether op, signed in by method, must have a
// second factor: by the policy, for a password sign-in; and always for a
// password sign-in while single sign-on is configured (the break-glass
// admin). People who sign in through the identity provider get their
// factors there.
func (c Config) MustHaveSecondFactor(op store.Operator, method string) bool {
	if method != store.SignInPassword {
		return false
	}
	switch {
	case c.OIDC.Enabled(), c.MFA == MFAAll:
		return true
	case c.MFA == MFAAdmins:
		return op.Role == store.RoleAdmin
	}
	return false
}

// PublicOrigin is the console's public origin as CONSOLE_PUBLIC_URL gives
// it, and what WebAuthn makes of it.
type PublicOrigin struct {
	Origin string // scheme://host[:port], what browsers put in a passkey's client data
	RPID   string // the relying party id: the host name
	IsIP   bool   // a bare IP address: no passkeys (WebAuthn wants a domain)
}

// ParsePublicURL reads CONSOLE_PUBLIC_URL: an https:// origin (http:// only
// for localhost, which browsers treat as secure), without a path.
func ParsePublicURL(s string) (PublicOrigin, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return PublicOrigin{}, errors.New("want the console's public origin, such as https://console.example.com")
	}
	if u.Path != "" && u.Path != "/" {
		return PublicOrigin{}, errors.New("want the console's public origin without a path: the console serves from the root of its host")
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "localhost" || strings.HasSuffix(host, ".localhost")):
	default:
		return PublicOrigin{}, errors.New("want https:// (browsers allow passkeys over http only on localhost)")
	}
	return PublicOrigin{Origin: u.Scheme + "://" + u.Host, RPID: host, IsIP: net.ParseIP(host) != nil}, nil
}
