package main

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// nodeGCPercent is the node's GOGC. Requests allocate a lot of short-lived
// garbage (goja objects) while the live heap (warm runtimes) is large and
// pointer-dense, so every collection is costly: at Go's default of 100,
// collecting took a third of the CPU of a JSON handler. 400 collects a
// quarter as often; the memory limit below bounds what that costs.
const nodeGCPercent = 400

// gcSettings returns the collector settings for a node process: GOGC and
// GOMEMLIMIT from the environment win; otherwise nodeGCPercent and a soft
// limit of half the memory the process may use (memTotal, 0 if unknown),
// past which the collector runs as often as it must.
func gcSettings(getenv func(string) string, memTotal int64) (percent int, limit int64) {
	percent, limit = -1, -1 // -1: leave as the Go runtime set it
	if getenv("GOGC") == "" {
		percent = nodeGCPercent
	}
	if getenv("GOMEMLIMIT") == "" && memTotal > 0 {
		limit = memTotal / 2
	}
	return percent, limit
}

// tuneGC applies gcSettings to this process.
func tuneGC(getenv func(string) string, log *slog.Logger) {
	percent, limit := gcSettings(getenv, memoryAvailable())
	if percent >= 0 {
		debug.SetGCPercent(percent)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	// -1: as the environment (or Go's default) says.
	log.Debug("garbage collector", "gogc", percent, "memory_limit", limit)
}

// memoryAvailable is the machine's memory or the cgroup's limit if lower;
// 0 when neither can be read (not Linux).
func memoryAvailable() int64 {
	total := memTotal()
	if raw, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

func memTotal() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(raw)
}

// parseMemTotal reads MemTotal (in kB) from /proc/meminfo's text.
func parseMemTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
