package token04

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrAppIDSyntax means a text is not a ZEGO AppID; its message is worded to
// stand beside a form field or after a flag name.
var ErrAppIDSyntax = errors.New("must be a ZEGO AppID: a whole number from 1 to 4294967295")

// ParseAppID reads an AppID as people type it: surrounding white space is
// ignored, and the rest must be a canonical decimal from 1 to 4294967295 (no
// sign, no leading zeros), so that one AppID has one spelling everywhere.
// Errors wrap ErrAppIDSyntax.
func ParseAppID(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '0' || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, ErrAppIDSyntax
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
		if n > math.MaxUint32 {
			return 0, fmt.Errorf("%w; a larger number does not fit", ErrAppIDSyntax)
		}
	}
	return uint32(n), nil
}
