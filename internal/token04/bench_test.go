package token04

import (
	"testing"
	"time"
)

// The issue path must stay within 2 µs and 8 allocations per GCM token on
// the 2-core reference machine: run `go test -run x -bench . -benchmem`.

func benchmarkGenerate(b *testing.B, mode Mode) {
	p := Params{AppID: 1234567890, UserID: "user-1234567890", Secret: testSecret, EffectiveSeconds: 3600,
		Payload: Privilege{RoomID: "room-1", Login: true, Publish: true}.Payload(), Mode: mode, Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Generate(p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkDecode(b *testing.B, mode Mode) {
	token, claims, err := Generate(Params{AppID: 1234567890, UserID: "user-1234567890", Secret: testSecret,
		EffectiveSeconds: 3600, Payload: Privilege{RoomID: "room-1", Login: true}.Payload(), Mode: mode, Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	opt := DecodeOptions{Now: time.Unix(claims.CTime+1, 0), ExpectAppID: claims.AppID}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(token, testSecret, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateGCM(b *testing.B) { benchmarkGenerate(b, ModeGCM) }
func BenchmarkGenerateCBC(b *testing.B) { benchmarkGenerate(b, ModeCBC) }
func BenchmarkDecodeGCM(b *testing.B)   { benchmarkDecode(b, ModeGCM) }
func BenchmarkDecodeCBC(b *testing.B)   { benchmarkDecode(b, ModeCBC) }

func BenchmarkFingerprint(b *testing.B) {
	token, _ := generate(b, ModeGCM)
	b.ReportAllocs()
	for b.Loop() {
		_ = Fingerprint(token)
	}
}
