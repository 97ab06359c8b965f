package store

import (
	"slices"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

func TestListTokens_FiltersByPrefixChannelAndIssuedBetweenSortsAndCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 7)
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for i, tc := range []struct{ user, room, channel string }{
		{"alice", "room-1", ChannelUI}, {"alina", "room-2", ChannelAPI}, {"bob", "room-10", ChannelCLI}, {"al_x", "hall", ChannelAPI},
	} {
		issue(t, b, IssueRequest{AppID: 7, UserID: tc.user, RoomID: tc.room, Mode: token04.ModeGCM, Channel: tc.channel,
			Actor: Actor{Type: ActorOperator, ID: "1", Name: "otto"}, Now: base.Add(time.Duration(i) * time.Minute),
			Privileges: &Privileges{Login: true}})
	}
	users := func(f TokenFilter) []string {
		t.Helper()
		recs, err := b.st.ListTokens(b.ctx, f, "", 50)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		n, err := b.st.CountTokens(b.ctx, f)
		if err != nil || n != int64(len(recs)) {
			t.Errorf("%+v: count %d (%v), want %d", f, n, err, len(recs))
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.UserID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    TokenFilter
		want []string
	}{
		{"user prefix (LIKE wildcards taken literally)", TokenFilter{UserIDPrefix: "al"}, []string{"al_x", "alina", "alice"}},
		{"underscore is not a wildcard", TokenFilter{UserIDPrefix: "al_"}, []string{"al_x"}},
		{"room prefix", TokenFilter{RoomIDPrefix: "room-1"}, []string{"bob", "alice"}},
		{"channel", TokenFilter{Channel: ChannelAPI}, []string{"al_x", "alina"}},
		{"issued between", TokenFilter{IssuedFrom: base.Add(time.Minute), IssuedTo: base.Add(3 * time.Minute)}, []string{"bob", "alina"}},
		{"oldest first", TokenFilter{Sort: TokenSortOldest}, []string{"alice", "alina", "bob", "al_x"}},
	} {
		if got := users(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// Keyset pages in the oldest-first order.
	first, err := b.st.ListTokens(b.ctx, TokenFilter{Sort: TokenSortOldest}, "", 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("first page: %v, %v", first, err)
	}
	next, err := b.st.ListTokens(b.ctx, TokenFilter{Sort: TokenSortOldest}, first[1].ID, 2)
	if err != nil || len(next) != 2 || next[0].UserID != "bob" || next[1].UserID != "al_x" {
		t.Errorf("second page oldest first: got %v (%v), want bob, al_x", next, err)
	}
	for _, bad := range []TokenFilter{{Channel: "fax"}, {Sort: "random"}, {IssuedFrom: base, IssuedTo: base}} {
		if _, err := b.st.ListTokens(b.ctx, bad, "", 10); FieldErrors(err) == nil {
			t.Errorf("%+v: got %v, want a field error", bad, err)
		}
	}
}
