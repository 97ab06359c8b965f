package sink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
)

// fileKeep is how many rotated files a file sink keeps (NAME.1 … NAME.5).
const fileKeep = 5

// appendFile appends the events as NDJSON to the sink's file in the sink
// directory, rotating it first when the batch would take it past its size,
// and syncs before it reports them delivered.
func (d *Deliverer) appendFile(k store.Sink, events []store.AuditEvent) (int, error) {
	if d.dir == "" {
		return 0, errors.New("file sinks need a directory: set CONSOLE_SINK_DIR")
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return 0, fmt.Errorf("file sink: %w", err)
	}
	var batch []byte
	for i := range events {
		line, _ := events[i].MarshalJSON()
		batch = append(append(batch, line...), '\n')
	}
	path := filepath.Join(d.dir, filepath.Base(k.Config.Path))
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 && fi.Size()+int64(len(batch)) > k.Config.MaxBytes {
		if err := rotate(path); err != nil {
			return 0, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("file sink: %w", err)
	}
	_, err = f.Write(batch)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("file sink %s: %w", k.Config.Path, err)
	}
	return len(events), nil
}

// rotate moves path to path.1, path.1 to path.2 and so on, dropping the
// oldest beyond fileKeep.
func rotate(path string) error {
	for i := fileKeep - 1; i >= 1; i-- {
		if err := os.Rename(path+"."+strconv.Itoa(i), path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("file sink: rotate: %w", err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	return nil
}
