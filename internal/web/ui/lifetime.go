package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseTTL reads a lifetime typed as seconds ("3600"), a Go duration
// ("1h", "90m", "1h30m") or days ("7d").
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("is required, such as 1h, 90m or 3600")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= 1<<31 {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseInt(days, 10, 64); err == nil && n >= 0 && n <= 1000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("is not a duration: write 1h, 90m, 3600 (seconds) or 7d")
	}
	return d, nil
}

// formatTTL writes seconds the way parseTTL reads them, shortest first:
// "24h", "90m", "45s".
func formatTTL(seconds int32) string {
	switch {
	case seconds > 0 && seconds%3600 == 0:
		return strconv.Itoa(int(seconds/3600)) + "h"
	case seconds > 0 && seconds%60 == 0:
		return strconv.Itoa(int(seconds/60)) + "m"
	default:
		return strconv.Itoa(int(seconds)) + "s"
	}
}
