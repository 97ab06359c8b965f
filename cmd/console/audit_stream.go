package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
)

// openInput opens path, or stdin for "-".
func openInput(e env, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(e.stdin), nil
	}
	return os.Open(path)
}

// verifyNDJSON checks a file of streamed or exported events without the
// database: exit 0 intact, 1 broken with the first break named.
func verifyNDJSON(e env, path string, asJSON bool) error {
	keys, err := offlineAuditKeys(e.getenv)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	f, err := openInput(e, path)
	if err != nil {
		return usageError("audit verify: --ndjson: %v", err)
	}
	defer f.Close()
	r, err := store.VerifyAuditNDJSON(f, keys)
	if err != nil {
		return fmt.Errorf("audit verify: %s: %w", path, err)
	}
	if asJSON {
		if err := json.NewEncoder(e.stdout).Encode(r); err != nil {
			return err
		}
	} else if r.OK {
		fmt.Fprintf(e.stdout, "%s intact: %s\n", path, r.Message)
	}
	if !r.OK {
		return &exitError{code: 1, err: fmt.Errorf("%s BROKEN at seq %d (%s): %s", path, r.BreakSeq, r.BreakKind, r.Message)}
	}
	return nil
}

// offlineAuditKeys are the keys that check anchors' MACs without the
// database: CONSOLE_AUDIT_KEY, then those derived from CONSOLE_MASTER_KEY
// (and its older keys); nil when neither is set.
func offlineAuditKeys(getenv func(string) string) ([][]byte, error) {
	read := func(name string) (string, error) {
		if v := getenv(name); v != "" {
			return v, nil
		}
		if p := getenv(name + "_FILE"); p != "" {
			b, err := os.ReadFile(p)
			return strings.TrimSpace(string(b)), err
		}
		return "", nil
	}
	var keys [][]byte
	audit, err := read("CONSOLE_AUDIT_KEY")
	if err != nil {
		return nil, err
	}
	if audit != "" {
		k, err := base64.StdEncoding.DecodeString(audit)
		if err != nil || len(k) < 32 {
			return nil, errors.New("CONSOLE_AUDIT_KEY must be base64 of at least 32 bytes")
		}
		keys = append(keys, k)
	}
	master, err := read("CONSOLE_MASTER_KEY")
	if err != nil {
		return nil, err
	}
	if master != "" {
		old, _ := read("CONSOLE_MASTER_KEY_OLD")
		ring, err := store.ParseMasterKeys(master, old)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ring.DerivedKeys("audit-checkpoint")...)
	}
	return keys, nil
}

// readAnchors reads the anchors of every audit.anchor event in a file of
// events (other lines are skipped); it needs at least one.
func readAnchors(e env, path string) ([]store.Anchor, error) {
	f, err := openInput(e, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var anchors []store.Anchor
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		var ev struct {
			Action string `json:"action"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.Action != store.AnchorAction {
			continue
		}
		a, err := store.ParseAnchorEvent(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, n, err)
		}
		anchors = append(anchors, a)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(anchors) == 0 {
		return nil, fmt.Errorf("%s holds no %s event", path, store.AnchorAction)
	}
	return anchors, nil
}
