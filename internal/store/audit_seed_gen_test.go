package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestJSONBText_IsWhatPostgreSQLPrints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, details := range []map[string]any{
		{},
		{"a": "b"},
		{"bb": 1, "a": int64(-2), "ccc": int32(3), "z": true, "y": false, "n": nil},
		{"quote \" backslash \\ slash /": "controls \b\f\n\r\t\x01\x1f\x7f end"},
		{"html": "<script>&amp;</script>", "unicode": "用户-ü-😀 line\u2028para\u2029", "empty": ""},
		{"names": []string{"login", "publish"}, "none": []string{}, "null": []string(nil), "odd": []string{"a\"b", "c\\d"}},
		{"user_id": "u", "token_id": "t", "ttl_seconds": int64(3600), "expire": "2024-05-01T00:00:00Z", "mode": "gcm",
			"channel": "api", "secret_version": int32(1), "room_id": "r", "privileges": []string{"login"}, "stream_ids": []string(nil)},
	} {
		js, err := json.Marshal(details)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := b.st.pool.QueryRow(b.ctx, `SELECT $1::jsonb::text`, string(js)).Scan(&want); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if got := jsonbText(details); got != want {
			t.Errorf("jsonbText(%v):\n got %s\nwant %s", details, got, want)
		}
	}
}

func TestSeedGenerator_SameSeedSameEvents(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	a := NewSeedGenerator(7, []uint32{1, 2, 3}, 500, 24*time.Hour, now)
	b := NewSeedGenerator(7, []uint32{1, 2, 3}, 500, 24*time.Hour, now)
	c := NewSeedGenerator(8, []uint32{1, 2, 3}, 500, 24*time.Hour, now)
	differs := false
	for i := range 500 {
		ea, eb, ec := a.Event(i), b.Event(i), c.Event(i)
		if !reflect.DeepEqual(ea, eb) {
			t.Fatalf("event %d: got %+v and %+v from the same seed, want them equal", i, ea, eb)
		}
		if ea.OccurredAt.Before(now.Add(-24*time.Hour)) || ea.OccurredAt.After(now) {
			t.Fatalf("event %d at %v: want it within the day before %v", i, ea.OccurredAt, now)
		}
		differs = differs || !reflect.DeepEqual(ea, ec)
	}
	if !differs {
		t.Fatal("seeds 7 and 8 made the same events, want different ones")
	}
}
