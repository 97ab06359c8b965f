package main

import (
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/web"
)

func TestLoadConfig_AuditExportLimits(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/x", "CONSOLE_DEV": "true"}
	load := func(extra map[string]string) (config, error) {
		return loadConfig(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		})
	}
	c, err := load(nil)
	if err != nil || c.ExportBatchTimeout != web.DefaultExportBatchTimeout || c.ExportMaxDuration != web.DefaultExportMaxDuration ||
		c.ExportConcurrency != web.DefaultExportConcurrency {
		t.Fatalf("defaults: got %v, %v, %d (%v)", c.ExportBatchTimeout, c.ExportMaxDuration, c.ExportConcurrency, err)
	}
	c, err = load(map[string]string{"CONSOLE_EXPORT_BATCH_TIMEOUT": "500ms", "CONSOLE_EXPORT_MAX_DURATION": "1h", "CONSOLE_EXPORT_CONCURRENCY": "4"})
	if err != nil || c.ExportBatchTimeout != 500*time.Millisecond || c.ExportMaxDuration != time.Hour || c.ExportConcurrency != 4 {
		t.Fatalf("set: got %v, %v, %d (%v)", c.ExportBatchTimeout, c.ExportMaxDuration, c.ExportConcurrency, err)
	}
	for name, bad := range map[string]string{"CONSOLE_EXPORT_BATCH_TIMEOUT": "3", "CONSOLE_EXPORT_MAX_DURATION": "-1m", "CONSOLE_EXPORT_CONCURRENCY": "0"} {
		if _, err := load(map[string]string{name: bad}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming it", name, bad, err)
		}
	}
}
