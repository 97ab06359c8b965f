package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const tokenTestSecret = "0123456789abcdef0123456789abcdef"

// tokenResult is what one in-process run of the console left behind.
type tokenResult struct {
	code           int
	stdout, stderr string
}

// runTokenCLI runs the command line in-process with the given stdin and environment.
func runTokenCLI(t *testing.T, stdin string, environ map[string]string, args ...string) tokenResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return environ[k] }}
	code := exitCode(run(context.Background(), e, args), &stderr)
	return tokenResult{code, stdout.String(), stderr.String()}
}

// issueTestToken makes a token with the test secret and the given extra flags.
func issueTestToken(t *testing.T, flags ...string) string {
	t.Helper()
	r := runTokenCLI(t, "", nil, append([]string{"token", "issue", "--app-id", "42", "--user", "alice", "--secret", tokenTestSecret}, flags...)...)
	if r.code != 0 {
		t.Fatalf("issue %v: got exit %d (%s), want 0", flags, r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "04") || strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Fatalf("issue %v: got stdout %q, want the token alone on one line", flags, r.stdout)
	}
	return strings.TrimSpace(r.stdout)
}

// decodedOutput is the JSON that decode prints, with the optional fields kept raw.
type decodedOutput struct {
	AppID        uint32          `json:"app_id"`
	UserID       string          `json:"user_id"`
	CTime        int64           `json:"ctime"`
	Expire       int64           `json:"expire"`
	Nonce        int32           `json:"nonce"`
	Payload      string          `json:"payload"`
	Mode         string          `json:"mode"`
	Expired      bool            `json:"expired"`
	RoomID       *string         `json:"room_id"`
	Privilege    json.RawMessage `json:"privilege"`
	StreamIDList json.RawMessage `json:"stream_id_list"`
}

func parseDecodeOutput(t *testing.T, r tokenResult) decodedOutput {
	t.Helper()
	var d decodedOutput
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("got stdout %q (stderr %q), want one JSON object: %v", r.stdout, r.stderr, err)
	}
	if dec.More() {
		t.Fatalf("got more than one JSON value on stdout: %q", r.stdout)
	}
	return d
}

func TestTokenIssue_RoundTripsThroughDecodeInBothModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"gcm", "cbc", "GCM"} {
		before := time.Now().Unix()
		token := issueTestToken(t, "--mode", mode, "--ttl", "90m", "--payload", `raw "payload" <&>`)
		r := runTokenCLI(t, "", nil, "token", "decode", "--secret", tokenTestSecret, "--app-id", "42", token)
		d := parseDecodeOutput(t, r)
		if r.code != 0 || d.Mode != strings.ToLower(mode) || d.AppID != 42 || d.UserID != "alice" || d.Payload != `raw "payload" <&>` {
			t.Errorf("%s: got exit %d and %+v, want 0 and the issued claims", mode, r.code, d)
		}
		if d.CTime < before || d.Expire-d.CTime != 5400 || d.Expired {
			t.Errorf("%s: got ctime %d expire %d expired %v, want now, now+5400, false", mode, d.CTime, d.Expire, d.Expired)
		}
		if d.RoomID != nil || d.Privilege != nil || d.StreamIDList != nil {
			t.Errorf("%s: got privilege fields for a raw payload: %s", mode, r.stdout)
		}
	}
}

func TestTokenIssue_BuildsPrivilegePayloads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags                    []string
		room, privilege, streams string
	}{
		{[]string{"--room", "r1", "--privilege", "publish", "--stream", "a", "--stream", "b"}, "r1", `{"1":0,"2":1}`, `["a","b"]`},
		{[]string{"--room", "r1"}, "r1", `{"1":1,"2":0}`, "null"},
		{[]string{"--privilege", "login, PUBLISH"}, "", `{"1":1,"2":1}`, "null"},
		{[]string{"--stream", "only"}, "", `{"1":1,"2":0}`, `["only"]`},
	} {
		token := issueTestToken(t, tc.flags...)
		r := runTokenCLI(t, "", map[string]string{"ZEGO_SERVER_SECRET": tokenTestSecret}, "token", "decode", token)
		d := parseDecodeOutput(t, r)
		var privilege, streams bytes.Buffer
		_ = json.Compact(&privilege, d.Privilege)
		_ = json.Compact(&streams, d.StreamIDList)
		if r.code != 0 || d.RoomID == nil || *d.RoomID != tc.room || privilege.String() != tc.privilege || streams.String() != tc.streams {
			t.Errorf("%v: got exit %d, room %v privilege %s streams %s, want 0, %q %s %s",
				tc.flags, r.code, d.RoomID, privilege.String(), streams.String(), tc.room, tc.privilege, tc.streams)
		}
	}
}

func TestTokenIssue_TakesTheSecretFromFileThenFlagThenEnvironment(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(tokenTestSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("z", 32)
	for _, tc := range []struct {
		name  string
		flags []string
		env   map[string]string
	}{
		{"file over flag and env", []string{"--secret-file", file, "--secret", other}, map[string]string{"ZEGO_SERVER_SECRET": other}},
		{"flag over env", []string{"--secret", tokenTestSecret}, map[string]string{"ZEGO_SERVER_SECRET": other}},
		{"env alone", nil, map[string]string{"ZEGO_SERVER_SECRET": tokenTestSecret}},
	} {
		r := runTokenCLI(t, "", tc.env, append([]string{"token", "issue", "--app-id", "1", "--user", "u"}, tc.flags...)...)
		if r.code != 0 {
			t.Fatalf("%s: got exit %d (%s), want 0", tc.name, r.code, r.stderr)
		}
		check := runTokenCLI(t, r.stdout, nil, "token", "decode", "--secret", tokenTestSecret, "-")
		if check.code != 0 {
			t.Errorf("%s: token does not verify with the expected secret: exit %d, %s", tc.name, check.code, check.stderr)
		}
	}
}

func TestTokenDecode_IgnoresWhiteSpaceAPasteAdds(t *testing.T) {
	t.Parallel()
	token := issueTestToken(t)
	wrapped := "  " + token[:20] + "\r\n\t" + token[20:40] + "\n " + token[40:] + "\n"
	for _, args := range [][]string{{wrapped}, {"-"}} {
		r := runTokenCLI(t, wrapped, nil, append([]string{"token", "decode", "--secret", tokenTestSecret}, args...)...)
		if r.code != 0 || parseDecodeOutput(t, r).UserID != "alice" {
			t.Errorf("decode %q of a wrapped token: got exit %d, stderr %q; want 0 and alice's claims", args, r.code, r.stderr)
		}
	}
}

func TestTokenDecode_ReadsAnOfficialVector(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(tokenOfficialVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Mode, Secret, Token string
			Claims              decodedOutput
		}
	}
	if err := json.Unmarshal(data, &file); err != nil || len(file.Vectors) < 2 {
		t.Fatalf("parse official vectors: %v", err)
	}
	v := file.Vectors[1] // the Go sample with a privilege payload
	now := strconv.FormatInt(v.Claims.CTime+1, 10)
	r := runTokenCLI(t, "", nil, "token", "decode", "--secret", v.Secret, v.Token, "--now", now)
	d := parseDecodeOutput(t, r)
	want := v.Claims
	want.Mode, want.RoomID, want.Privilege, want.StreamIDList = v.Mode, d.RoomID, d.Privilege, d.StreamIDList
	if r.code != 0 || !equalDecodedOutput(d, want) || d.RoomID == nil || *d.RoomID != "room1" {
		t.Errorf("got exit %d and %+v, want 0 and %+v in room1", r.code, d, want)
	}
}

func equalDecodedOutput(a, b decodedOutput) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// tokenOfficialVectorsPath is the token04 package's copy of the tokens made by
// ZEGO's official generators.
const tokenOfficialVectorsPath = "../../internal/token04/testdata/official-vectors.json"

func TestTokenDecode_FailsWithCode1WhenTheTokenIsRefused(t *testing.T) {
	t.Parallel()
	token := issueTestToken(t, "--ttl", "60")
	future := strconv.FormatInt(time.Now().Unix()+3600, 10)
	for _, tc := range []struct {
		name     string
		args     []string
		json     bool // whether the claims are still printed
		expired  bool
		inStderr string
	}{
		{"wrong secret", []string{"--secret", strings.Repeat("x", 32), token}, false, false, "does not verify"},
		{"expired", []string{"--secret", tokenTestSecret, "--now", future, token}, true, true, "expired"},
		{"not yet valid", []string{"--secret", tokenTestSecret, "--now", "1000", token}, true, false, "not yet valid"},
		{"another app id", []string{"--secret", tokenTestSecret, "--app-id", "43", token}, true, false, "another app id"},
		{"not a token", []string{"--secret", tokenTestSecret, "hello"}, false, false, "not a version 04 token"},
		{"truncated", []string{"--secret", tokenTestSecret, token[:len(token)-8]}, false, false, "truncated"},
	} {
		r := runTokenCLI(t, "", nil, append([]string{"token", "decode"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.inStderr) {
			t.Errorf("%s: got exit %d, stderr %q, want 1 and %q", tc.name, r.code, r.stderr, tc.inStderr)
		}
		if !tc.json {
			if r.stdout != "" {
				t.Errorf("%s: got stdout %q, want nothing", tc.name, r.stdout)
			}
			continue
		}
		if d := parseDecodeOutput(t, r); d.Expired != tc.expired || d.UserID != "alice" {
			t.Errorf("%s: got %+v, want alice's claims with expired %v", tc.name, d, tc.expired)
		}
	}
}

func TestToken_UsageErrorsExitWith2AndSayWhy(t *testing.T) {
	t.Parallel()
	token := issueTestToken(t)
	base := func(flags ...string) []string {
		return append([]string{"token", "issue", "--app-id", "1", "--user", "u", "--secret", tokenTestSecret}, flags...)
	}
	for _, tc := range []struct {
		args     []string
		inStderr string
	}{
		{[]string{"token"}, "missing subcommand"},
		{[]string{"token", "revoke"}, `unknown subcommand "revoke"`},
		{[]string{"token", "issue", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"token", "issue", "--user", "u", "--secret", tokenTestSecret}, "--app-id"},
		{[]string{"token", "issue", "--app-id", "1", "--secret", tokenTestSecret}, "--user are required"},
		{[]string{"token", "issue", "--app-id", "4294967296", "--user", "u"}, "does not fit"},
		{[]string{"token", "issue", "--app-id", "x", "--user", "u"}, "invalid value"},
		{base("--ttl", "1.5s"), "whole number of seconds"},
		{base("--ttl", "0"), "must be positive"},
		{base("--ttl", "-1h"), "must be positive"},
		{base("--ttl", "soon"), "neither a duration"},
		{base("--mode", "ecb"), "unknown encryption mode"},
		{base("--payload", "{}", "--room", "r"), "cannot be combined"},
		{base("--payload", "{}", "--stream", "s"), "cannot be combined"},
		{base("--privilege", "admin"), `unknown privilege "admin"`},
		{base("stray"), `unexpected argument "stray"`},
		{base("--user", strings.Repeat("u", 65)), "longer than 64 bytes"},
		{base("--user", "bad\xff"), "not valid UTF-8"},
		{[]string{"token", "issue", "--app-id", "1", "--user", "u"}, "no ServerSecret: pass --secret-file"},
		{[]string{"token", "issue", "--app-id", "1", "--user", "u", "--secret", "short"}, "exactly 32 bytes, got 5 (from --secret)"},
		{[]string{"token", "issue", "--app-id", "1", "--user", "u", "--secret-file", "/nonexistent/secret"}, "read --secret-file"},
		{[]string{"token", "decode", "--secret", tokenTestSecret}, "exactly one TOKEN"},
		{[]string{"token", "decode", "--secret", tokenTestSecret, token, token}, "got 2"},
		{[]string{"token", "decode", "--secret", tokenTestSecret, "-"}, "empty token"},
		{[]string{"token", "decode", token}, "no ServerSecret"},
		{[]string{"token", "decode", "--secret", "short", token}, "exactly 32 bytes"},
		{[]string{"token", "decode", "--secret", tokenTestSecret, "--app-id", "-1", token}, "invalid value"},
		{[]string{"token", "decode", "--secret", tokenTestSecret, "--now", "soon", token}, "invalid value"},
	} {
		r := runTokenCLI(t, "", nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.inStderr) || r.stdout != "" {
			t.Errorf("%q: got exit %d, stdout %q, stderr %q, want 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.inStderr)
		}
	}
}

func TestToken_HelpExitsWith0(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		output func(tokenResult) string
		want   []string
	}{
		{[]string{"token", "--help"}, func(r tokenResult) string { return r.stdout }, []string{"issue", "decode"}},
		{[]string{"token", "issue", "--help"}, func(r tokenResult) string { return r.stderr }, []string{"-app-id", "-ttl", "-stream", "-secret-file"}},
		{[]string{"token", "decode", "-h"}, func(r tokenResult) string { return r.stderr }, []string{"-now", "-app-id", "TOKEN|-"}},
	} {
		r := runTokenCLI(t, "", nil, tc.args...)
		for _, want := range tc.want {
			if r.code != 0 || !strings.Contains(tc.output(r), want) {
				t.Errorf("%q: got exit %d, output %q, want 0 and %q", tc.args, r.code, tc.output(r), want)
			}
		}
	}
}
