package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/zegocloud-console/console/internal/testclock"
)

// codeAt is the code an authenticator app with secret shows at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTP_SecretMovesWithRekeyAndStillChecksCodes(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Unix(1_900_000_020, 0))
	b := setup(t, WithLoginClock(clock.Now)).withAdmin(t)
	en, err := b.st.BeginTOTP(b.ctx, b.admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.ConfirmTOTP(b.ctx, b.admin, codeAt(t, en.Secret, clock.Now()), b.actor, Origin{}); err != nil {
		t.Fatal(err)
	}
	newKey := bytes.Repeat([]byte{42}, 32)
	both, _ := NewKeyring(newKey, bytes.Repeat([]byte{7}, 32))
	st2, err := Open(b.ctx, b.db.RuntimeURL, both, WithLoginClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n, err := st2.Rekey(b.ctx, b.actor, Origin{}); err != nil || n != 1 {
		t.Fatalf("rekey: got %d, %v; want the TOTP secret re-encrypted", n, err)
	}
	onlyNew, _ := NewKeyring(newKey)
	st3, err := Open(b.ctx, b.db.RuntimeURL, onlyNew, WithLoginClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st3.Close()
	op, _ := st3.OperatorByID(b.ctx, b.admin.ID)
	clock.Advance(30 * time.Second)
	c := FactorCheck{Operator: op, Purpose: CheckSignIn}
	if m, err := st3.VerifyCode(b.ctx, c, codeAt(t, en.Secret, clock.Now())); err != nil || m != FactorTOTP {
		t.Fatalf("after rekey, the new key alone must check codes: got %q, %v", m, err)
	}
	if _, err := st3.VerifyCode(b.ctx, c, codeAt(t, en.Secret, clock.Now())); !errors.Is(err, ErrBadCode) {
		t.Fatalf("the same code twice: got %v, want ErrBadCode", err)
	}
}
