// Package zego speaks ZEGO's server APIs: the products and regions a project
// uses, their hosts and documented limits, the signed request scheme they
// share, and the kick-out actions of RTC rooms and In-app Chat (ZIM) rooms.
// It uses the standard library only; it never logs, and no error it returns
// carries a request's URL, which holds the signature.
package zego

import (
	"slices"
	"strings"
	"time"
)

// The ZEGO products whose rooms the console can kick a user out of.
const (
	ServiceRTC = "rtc" // Real-time audio and video rooms (Express SDK)
	ServiceZIM = "zim" // In-app Chat rooms
)

// Services lists every product, in their canonical order.
var Services = []string{ServiceRTC, ServiceZIM}

// RegionGlobal is the default region: ZEGO routes the request itself.
const RegionGlobal = "global"

// Regions lists the data centres a project's server API calls can go to:
// global (the default) or one of ZEGO's regional hosts.
var Regions = []string{RegionGlobal, "sha", "hkg", "fra", "lax", "bom", "sgp"}

// ValidService tells whether s names a product.
func ValidService(s string) bool { return slices.Contains(Services, s) }

// ValidRegion tells whether r names a region.
func ValidRegion(r string) bool { return slices.Contains(Regions, r) }

// ServiceName is how people read a product's name.
func ServiceName(service string) string {
	switch service {
	case ServiceRTC:
		return "RTC"
	case ServiceZIM:
		return "In-app Chat"
	}
	return service
}

// Host is the host of a product's server API in region: rtc-api.zego.im,
// zim-api-sha.zego.im and so on.
func Host(service, region string) string {
	if region == "" || region == RegionGlobal {
		return service + "-api.zego.im"
	}
	return service + "-api-" + region + ".zego.im"
}

// Limits are what ZEGO documents for one product's kick-out action.
type Limits struct {
	UsersPerCall   int // at most this many user ids in one call
	CallsPerSecond int // per AppID, for all its rooms
}

// LimitsOf returns the documented limits of a product's kick-out action:
// RTC KickoutUser takes 5 users a call, 50 calls a second per AppID; ZIM
// KickoutRoomUser 50 users a call, 20 calls a second per AppID.
func LimitsOf(service string) Limits {
	if service == ServiceZIM {
		return Limits{UsersPerCall: 50, CallsPerSecond: 20}
	}
	return Limits{UsersPerCall: 5, CallsPerSecond: 50}
}

// Spacing is the time to leave between two calls of a product for one
// AppID: the documented rate with a fifth held back, so that network jitter
// cannot push two calls into a second that ZEGO counts as over its limit.
func Spacing(service string) time.Duration {
	perSecond := LimitsOf(service).CallsPerSecond
	return time.Second * 5 / time.Duration(4*perSecond)
}

// Action is the name of a product's kick-out action.
func Action(service string) string {
	if service == ServiceZIM {
		return "KickoutRoomUser"
	}
	return "KickoutUser"
}

// ServiceOfAction is the product an action belongs to, "" when unknown.
func ServiceOfAction(action string) string {
	for _, s := range Services {
		if Action(s) == action {
			return s
		}
	}
	return ""
}

// Return codes of ZEGO's server APIs that the console acts on, from ZEGO's
// documented lists (the public codes shared by every product, and those of
// the room kick-out actions).
const (
	CodeSuccess          = 0
	CodeBusy             = 1         // the server is busy: retry
	CodeBadParameter     = 2         // an input parameter is wrong
	CodeRateLimited      = 7         // more requests a second than allowed
	CodeRoomNotFound     = 104       // RTC: the room does not exist (also 5024, 50001)
	CodeRTCRateLimited   = 206       // RTC room signalling: over the rate limit
	CodeRoomNotFoundAlt  = 5024      // RTC: the room does not exist
	CodeRoomStateBusy    = 5018      // RTC: room state mismatch, retry later
	CodeRoomNotFoundAlt2 = 50001     // RTC: the room does not exist
	CodeUserNotInRoom    = 51102     // ZIM: the user does not exist (is not logged in)
	CodeSignatureExpired = 100000004 // the Timestamp is outside ±10 minutes
	CodeBadSignature     = 100000005 // the Signature does not match
	CodeGatewayError     = 100000015 // the API gateway failed internally
)

// Outcome is what to do with a kick after one attempt.
type Outcome string

// The outcomes of an attempt.
const (
	OutcomeDone  Outcome = "done"  // kicked, or not in the room: nothing left to do
	OutcomeRetry Outcome = "retry" // a passing failure: try again later
	OutcomeFail  Outcome = "failed"
)

// Classify tells what an attempt's answer means: success and "not in the
// room" (the room no longer exists, the user is not logged in) are done;
// network errors, 5xx, HTTP 429, a busy server, rate limits, an expired
// signature (clock skew: signed again next time) and gateway errors are
// retried; anything else (a wrong secret or parameter) fails for good.
func Classify(a Answer, err error) Outcome {
	if err != nil || a.HTTPStatus >= 500 || a.HTTPStatus == 429 {
		return OutcomeRetry
	}
	if a.HTTPStatus != 200 {
		return OutcomeFail
	}
	switch a.Code {
	case CodeSuccess, CodeRoomNotFound, CodeRoomNotFoundAlt, CodeRoomNotFoundAlt2, CodeUserNotInRoom:
		return OutcomeDone
	case CodeBusy, CodeRateLimited, CodeRTCRateLimited, CodeRoomStateBusy, CodeSignatureExpired, CodeGatewayError:
		return OutcomeRetry
	}
	return OutcomeFail
}

// ParseServices reads a comma-separated list of products ("rtc,zim") into
// their canonical order without repeats; what is not a product is returned
// as bad.
func ParseServices(list string) (services []string, bad string) {
	services = []string{} // an empty list is one, for the caller to refuse
	for _, s := range strings.Split(list, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if !ValidService(s) {
			return nil, s
		}
		services = append(services, s)
	}
	return CanonicalServices(services), ""
}

// CanonicalServices sorts services into their canonical order and drops
// repeats; it keeps values that are not products, for the caller to refuse.
func CanonicalServices(services []string) []string {
	out := slices.Clone(services)
	slices.SortFunc(out, func(a, b string) int {
		ia, ib := slices.Index(Services, a), slices.Index(Services, b)
		if ia < 0 || ib < 0 {
			return strings.Compare(a, b)
		}
		return ia - ib
	})
	return slices.Compact(out)
}
