package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RSS is the memory of one console process during a run, in MiB: the
// largest resident size sampled, and the kernel's high-water mark (VmHWM),
// which was reset before the run where the kernel allows it.
type RSS struct {
	PID         int     `json:"pid"`
	StartM      float64 `json:"start_mib"` // resident size when the run began
	SampledMaxM float64 `json:"sampled_max_mib"`
	HWMM        float64 `json:"hwm_mib"`
	HWMReset    bool    `json:"hwm_reset"` // false: VmHWM covers the process's whole life
}

// rssSampler watches processes every 100 ms until stopped.
type rssSampler struct {
	mu   sync.Mutex
	rss  []RSS
	stop chan struct{}
	done chan struct{}
}

func startRSSSampler(pids []int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	for _, pid := range pids {
		// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
		err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
		start, _ := procStatusMiB(pid, "VmRSS:")
		s.rss = append(s.rss, RSS{PID: pid, StartM: start, HWMReset: err == nil})
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.rss {
		if v, ok := procStatusMiB(s.rss[i].PID, "VmRSS:"); ok {
			s.rss[i].SampledMaxM = max(s.rss[i].SampledMaxM, v)
		}
	}
}

// finish stops sampling and reads the high-water marks.
func (s *rssSampler) finish() []RSS {
	if s == nil {
		return nil
	}
	close(s.stop)
	<-s.done
	s.sample()
	for i := range s.rss {
		s.rss[i].HWMM, _ = procStatusMiB(s.rss[i].PID, "VmHWM:")
	}
	return s.rss
}

// procStatusMiB reads a "kB" field of /proc/<pid>/status in MiB.
func procStatusMiB(pid int, field string) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}

// parsePIDs reads a comma-separated list of process ids.
func parsePIDs(s string) ([]int, error) {
	var pids []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("pid %q: want a process id", p)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
