package store

import "testing"

func TestFreeText_FindsAnEventBeforeItsSealAfterItAndOnceItIsIndexed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	find := func(text string) int {
		t.Helper()
		page, err := b.st.ListAudit(b.ctx, AuditFilter{Text: text}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Events)
	}
	event := func(target string) Event {
		e := auditTestEvent(0)
		e.TargetID = target
		return e
	}
	for _, target := range []string{"indexed-needle", "sealed-needle"} {
		if err := b.st.Audit(b.ctx, event(target)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.SealPending(b.ctx, 0); err != nil {
			t.Fatal(err)
		}
		if target == "indexed-needle" {
			if n, err := b.st.IndexAuditText(b.ctx); err != nil || n != 1 {
				t.Fatalf("index: got %d, %v; want 1", n, err)
			}
		}
	}
	if err := b.st.Audit(b.ctx, event("waiting-needle")); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"indexed-needle", "sealed-needle", "waiting-needle"} {
		if got := find(text); got != 1 {
			t.Errorf("free text %q: got %d events, want 1", text, got)
		}
	}
	if got := find("needle"); got != 3 {
		t.Errorf("free text over all three: got %d events, want 3", got)
	}
	b.sealAll(t)
	if n := b.queryInt(t, `SELECT count(*) FROM audit_text`); n != 3 {
		t.Errorf("indexed texts after sealing and indexing: got %d, want 3", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_unindexed`); n != 0 {
		t.Errorf("events waiting for the text indexer: got %d, want 0", n)
	}
	if got := find("needle"); got != 3 {
		t.Errorf("free text once indexed: got %d events, want 3", got)
	}
}
