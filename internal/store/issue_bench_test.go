package store

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/token04"
)

// BenchmarkIssueToken issues tokens through the one issuing path (project
// and secret SELECT, secret decryption, Token04, record + audit INSERT)
// against a fresh database from 32 goroutines at once, the load run's
// concurrency: commits wait for the WAL flush, so fewer goroutines would
// measure the disk's fsync latency rather than the store. ns/op is wall
// time per token across all of them, the inverse of the store's throughput
// on this machine. No HTTP.
func BenchmarkIssueToken(b *testing.B) {
	benchmarkIssueToken(b, nil)
}

// BenchmarkIssueTokenGroupCommit is BenchmarkIssueToken with group commit.
func BenchmarkIssueTokenGroupCommit(b *testing.B) {
	benchmarkIssueToken(b, &GroupCommit{})
}

func benchmarkIssueToken(b *testing.B, group *GroupCommit) {
	ctx := b.Context()
	keys, err := NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	st, err := Open(ctx, pgtest.New(b).RuntimeURL, keys)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	const appID = 1234567
	if _, err := st.CreateProject(ctx, ProjectInput{Name: "Bench", AppID: appID, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true}, []byte(testSecret), testActor, testOrigin); err != nil {
		b.Fatal(err)
	}
	actor := Actor{Type: ActorAPIKey, ID: "zc_benchmrk", Name: "bench"}
	if group != nil {
		go st.RunIssueGroupCommit(ctx, *group)
	}
	var n atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := st.IssueToken(ctx, IssueRequest{AppID: appID, UserID: "user-" + strconv.FormatInt(i, 10),
				Mode: token04.ModeGCM, Channel: ChannelAPI, Actor: actor, Origin: testOrigin}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
