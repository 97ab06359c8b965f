package ui

import (
	"errors"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
)

// zegoError explains why a token does not verify in the words a ZEGO client
// would use: the error code the Express SDK reports from loginRoom, what it
// means, and what to do about it. Code 0 means ZEGO itself would accept the
// token and the problem is one only the console sees.
type zegoError struct {
	Code    int
	Name    string // the SDK's constant, e.g. RoomTokenExpireError
	Meaning string
	Fix     string
}

// ZEGO client error codes for token problems (ZegoErrorCode in the Express SDKs).
const (
	zegoAuthFailed   = 1002033 // RoomErrorAuthenticationFailed
	zegoTokenFormat  = 1002075 // RoomTokenFormatError: payload is not JSON
	zegoTokenAppID   = 1002076 // RoomTokenAppidError
	zegoTokenUserID  = 1002077 // RoomTokenUseridError: userID differs from loginRoom's
	zegoTokenExpired = 1002078 // RoomTokenExpireError
	zegoTokenVersion = 1002079 // RoomTokenVersionError
)

// zegoErrorFor maps why a token is not active to the ZEGO client error.
//
// Mapping choices:
//   - ErrExpired → 1002078, ErrAppIDMismatch → 1002076, ErrNotVersion04 →
//     1002079: ZEGO has a code for exactly these.
//   - ErrClaimsNotJSON → 1002075 (RoomTokenFormatError, "payload in
//     non-JSON format"): the token opened with the right key but holds no
//     claims JSON.
//   - ErrAuthentication, ErrBase64, ErrTruncated, ErrUnknownMode and
//     ErrExpireMismatch → 1002033: ZEGO cannot open or trust such a token and
//     reports a failed room login authentication; the console names the
//     precise cause in Meaning.
//   - ErrNotYetValid → no code. 1002077 is the *userID* mismatch between the
//     token and loginRoom, not a time error, and ZEGO checks only signature
//     and expiry, so it would most likely accept the token; the console flags
//     it because it points at a wrong clock on the issuing server.
//   - Revoked → no code: ZEGO accepts a revoked token until it expires; only
//     services that call the introspection endpoint refuse it.
//
// adHoc says the token was checked with a typed secret rather than the
// stored ones, which changes what "does not verify" suggests.
func zegoErrorFor(in store.Introspection, adHoc bool) (zegoError, bool) {
	err := in.Err
	switch {
	case err == nil && in.Revoked():
		return zegoError{Name: "revoked here", Meaning: "The token was revoked in this console. ZEGO itself checks only the signature and expiry, so a ZEGO client will still log in with it until it expires; services that call the introspection endpoint refuse it.",
			Fix: "To stop every outstanding token at ZEGO, rotate the project's ServerSecret in the ZEGO console and record the new one here."}, true
	case err == nil:
		return zegoError{}, false
	case errors.Is(err, token04.ErrExpired):
		return zegoError{Code: zegoTokenExpired, Name: "RoomTokenExpireError", Meaning: "The token has expired.",
			Fix: "Issue a new token, and have the client call renewToken when it receives onRoomTokenWillExpire (30 s before expiry)."}, true
	case errors.Is(err, token04.ErrAppIDMismatch):
		return zegoError{Code: zegoTokenAppID, Name: "RoomTokenAppidError", Meaning: "The token was made for another AppID than the one expected.",
			Fix: "Issue the token for the AppID the client's engine was created with, or create the engine with the token's AppID."}, true
	case errors.Is(err, token04.ErrNotVersion04):
		return zegoError{Code: zegoTokenVersion, Name: "RoomTokenVersionError", Meaning: "This is not a Token04: it does not start with \"04\".",
			Fix: "Paste the whole token. Generate it with a Token04 generator (such as this console), not an older token version."}, true
	case errors.Is(err, token04.ErrClaimsNotJSON):
		return zegoError{Code: zegoTokenFormat, Name: "RoomTokenFormatError", Meaning: "The token opens with the secret but its payload is not valid claims JSON.",
			Fix: "Fix the generator that made it: the claims and the privilege payload must be JSON."}, true
	case errors.Is(err, token04.ErrNotYetValid):
		return zegoError{Name: "not yet valid", Meaning: "The token's creation time (ctime) lies more than 5 minutes in the future. ZEGO checks only the signature and expiry and will probably accept it, but the clock of the server that issued it is wrong.",
			Fix: "Synchronise the issuing server's clock (NTP) and issue a new token. (1002077 is not this: it means the userID passed to loginRoom differs from the token's user_id.)"}, true
	}
	e := zegoError{Code: zegoAuthFailed, Name: "RoomErrorAuthenticationFailed"}
	switch {
	case errors.Is(err, token04.ErrBase64):
		e.Meaning, e.Fix = "The part after \"04\" is not valid base64: the token was cut, wrapped or altered while copying.", "Copy the token again in one piece."
	case errors.Is(err, token04.ErrTruncated):
		e.Meaning, e.Fix = "The token is truncated: its length fields do not match its size.", "Copy the token again in one piece; check that nothing shortens it (URL or field length limits)."
	case errors.Is(err, token04.ErrUnknownMode):
		e.Meaning, e.Fix = "The token's encryption mode is unknown (neither GCM nor legacy CBC).", "Generate the token with an official or compatible Token04 generator."
	case errors.Is(err, token04.ErrExpireMismatch):
		e.Meaning, e.Fix = "The expiry in the token's header differs from the sealed one: the header was altered.", "Do not edit tokens; issue a new one."
	case adHoc:
		e.Meaning, e.Fix = "The token does not verify with the secret you typed: the secret is wrong or the token was altered.", "Check the ServerSecret (32 characters, from the ZEGO console) and copy the token again."
	case in.Reason == store.ReasonWrongSecret:
		e.Meaning, e.Fix = "This console issued the token, but it no longer verifies with the secret it was signed with: it was altered after issue.", "Issue a new token and find out where it was modified."
	case in.Reason == store.ReasonUnknownSecret:
		e.Meaning, e.Fix = "No ServerSecret known for the chosen project(s) verifies this token: it was signed with another secret, or altered.", "Check the AppID and ServerSecret the issuing server uses; if the secret was rotated, record the new one here."
	default:
		e.Meaning, e.Fix = "The token does not verify: the secret is wrong or the token was altered.", "Check the AppID and ServerSecret the issuing server uses, and copy the token again."
	}
	return e, true
}

// zegoCodeReference lists the token codes a ZEGO client may report, for the
// inspector's help section.
var zegoCodeReference = []zegoError{
	{Code: zegoAuthFailed, Name: "RoomErrorAuthenticationFailed", Meaning: "Room login authentication failed: wrong secret, altered or truncated token."},
	{Code: zegoTokenFormat, Name: "RoomTokenFormatError", Meaning: "The token's payload is not JSON."},
	{Code: zegoTokenAppID, Name: "RoomTokenAppidError", Meaning: "The token's AppID differs from the engine's."},
	{Code: zegoTokenUserID, Name: "RoomTokenUseridError", Meaning: "The token's user_id differs from the userID passed to loginRoom."},
	{Code: zegoTokenExpired, Name: "RoomTokenExpireError", Meaning: "The token has expired."},
	{Code: zegoTokenVersion, Name: "RoomTokenVersionError", Meaning: "The token is not a Token04."},
}
