package store

import (
	"regexp"
	"strings"
	"testing"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword_VerifiesOnlyTheSamePassword(t *testing.T) {
	t.Parallel()
	pw := "correct horse battery staple"
	hash, err := hashPassword(testPasswordParams, pw)
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	if !phcPattern.MatchString(hash) {
		t.Fatalf("got hash %q, want an argon2id PHC string", hash)
	}
	if strings.Contains(hash, pw) {
		t.Fatalf("hash %q contains the password", hash)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{pw, true},
		{pw + " ", false},
		{"Correct horse battery staple", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := CheckPassword(hash, tt.pw)
		if err != nil || got != tt.want {
			t.Errorf("CheckPassword(%q): got %v, %v, want %v, nil", tt.pw, got, err, tt.want)
		}
	}
	again, err := hashPassword(testPasswordParams, pw)
	if err != nil || again == hash {
		t.Fatalf("second hash: got %q, %v, want a different salt than %q", again, err, hash)
	}
}

func TestHashPassword_DefaultParamsFollowOWASP(t *testing.T) {
	t.Parallel()
	hash, err := hashPasswordWith(defaultPasswordParams, "twelve bytes")
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(hash, want) {
		t.Fatalf("got %q, want prefix %q", hash, want)
	}
	ok, err := CheckPassword(hash, "twelve bytes")
	if err != nil || !ok {
		t.Fatalf("check: got %v, %v, want true, nil", ok, err)
	}
}

func TestPasswordPolicy_LengthInBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"11 bytes", strings.Repeat("a", 11), false},
		{"12 bytes", strings.Repeat("a", 12), true},
		{"4 runes of 3 bytes", "€€€€", true},
		{"256 bytes", strings.Repeat("b", 256), true},
		{"257 bytes", strings.Repeat("b", 257), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hashPassword(testPasswordParams, tt.pw)
			if tt.ok {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			wantField(t, err, "password")
			if strings.Contains(err.Error(), tt.pw) && tt.pw != "" {
				t.Fatalf("error %q repeats the password", err)
			}
		})
	}
}

func TestCheckPassword_RejectsMalformedHashes(t *testing.T) {
	t.Parallel()
	good, err := hashPassword(testPasswordParams, "a good password")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	tests := []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=100,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$short",
		good + "$extra",
	}
	for _, hash := range tests {
		ok, err := CheckPassword(hash, "a good password")
		if err == nil || ok {
			t.Errorf("CheckPassword(%q): got %v, %v, want false and an error", hash, ok, err)
		}
	}
}
