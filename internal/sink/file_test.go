package sink_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
)

func TestFileSink_AppendsNDJSONAndRotatesBySizeKeepingEveryEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	k, _, err := e.st.CreateSink(t.Context(), store.SinkInput{Name: "file", Kind: store.SinkFile, Path: "audit.ndjson",
		MaxBytes: 4096, FromSeq: 1}, testActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	e.events(40)
	e.runner(sink.NewDeliverer(sink.Options{Dir: dir}), "10ms")
	head := e.head()
	waitFor(t, "the file sink caught up", func() (bool, string) {
		got := e.sink(k.ID)
		return got.CursorSeq == head, got.LastError
	})
	// Oldest first: audit.ndjson.5 … audit.ndjson.1, then audit.ndjson.
	var all []byte
	rotated := 0
	for _, name := range []string{"audit.ndjson.5", "audit.ndjson.4", "audit.ndjson.3", "audit.ndjson.2", "audit.ndjson.1", "audit.ndjson"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if name != "audit.ndjson" {
			rotated++
		}
		if len(b) > 4096+2048 {
			t.Errorf("%s is %d bytes, want about the rotation size of 4096", name, len(b))
		}
		all = append(all, b...)
	}
	if rotated == 0 {
		t.Fatal("nothing was rotated")
	}
	r, err := store.VerifyAuditNDJSON(bytes.NewReader(all), nil)
	if err != nil || !r.OK || r.LastSeq != head {
		t.Errorf("the files do not hold the chain up to %d: %+v %v", head, r, err)
	}
}
