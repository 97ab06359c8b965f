package store

import (
	"bytes"
	"sync"
	"testing"

	"github.com/zegocloud-console/console/internal/pgtest"
)

func TestSharedKey_SameBytesForRacingInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t).RuntimeURL
	stores := []*Store{newPeopleStore(t, url), newPeopleStore(t, url), newPeopleStore(t, url)}
	keys := make([][]byte, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range keys {
		wg.Go(func() {
			<-start
			keys[i], errs[i] = stores[i%len(stores)].SharedKey(t.Context(), "session.hash_key", 64)
		})
	}
	close(start)
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		if len(keys[i]) != 64 || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("instance %d: got %x, want the same 64 bytes as %x", i, keys[i], keys[0])
		}
	}
	if bytes.Equal(keys[0], make([]byte, 64)) {
		t.Fatal("got all zero bytes")
	}
	other, err := stores[0].SharedKey(t.Context(), "session.block_key", 32)
	if err != nil || len(other) != 32 || bytes.Equal(other, keys[0][:32]) {
		t.Fatalf("second name: got %x, %v, want 32 other bytes", other, err)
	}
	if _, err := stores[0].SharedKey(t.Context(), "session.hash_key", 32); err == nil {
		t.Fatal("size mismatch: got nil error")
	}
	for _, bad := range []struct {
		name string
		size int
	}{{"", 32}, {"x", 0}, {"x", -1}, {"a\x00b", 32}} {
		if _, err := stores[0].SharedKey(t.Context(), bad.name, bad.size); err == nil {
			t.Errorf("SharedKey(%q, %d): got nil error", bad.name, bad.size)
		}
	}
}
