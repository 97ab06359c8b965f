package ui

import (
	"context"
	"testing"
	"time"
)

func TestSealLagText_CountsInWordsAndEndsOneSentence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "Every event is sealed into the chain."},
		{1, "1 event waiting to be sealed, for 2.5 s."},
		{3, "3 events waiting to be sealed, the oldest for 2.5 s."},
	} {
		if got := sealLagText(context.Background(), tc.n, 2500*time.Millisecond); got != tc.want {
			t.Errorf("%d waiting: got %q, want %q", tc.n, got, tc.want)
		}
	}
}
