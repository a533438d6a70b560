package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProcStat is what the harness needs from /proc/<pid>/stat.
type ProcStat struct {
	PPID int
	// Ticks is utime+stime+cutime+cstime in clock ticks: the process's
	// own CPU and that of its children it has waited for, so a tree's sum
	// over its live members keeps the time of members that exited.
	Ticks uint64
}

// ParseStat parses one /proc/<pid>/stat line. The command name may hold
// spaces and parentheses, so fields are counted from the last ')'.
func ParseStat(line string) (ProcStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("stat line without a command name: %q", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return ProcStat{}, fmt.Errorf("stat line too short: %q", line)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return ProcStat{}, fmt.Errorf("stat ppid: %w", err)
	}
	var ticks uint64
	for _, s := range f[11:15] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return ProcStat{}, fmt.Errorf("stat times: %w", err)
		}
		ticks += v
	}
	return ProcStat{PPID: ppid, Ticks: ticks}, nil
}

// Descendants returns root and every live process below it, from a
// pid -> parent map.
func Descendants(root int, parent map[int]int) []int {
	children := map[int][]int{}
	for pid, pp := range parent {
		children[pp] = append(children[pp], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// procReader reads CPU time and memory of process trees.
type procReader struct {
	tick time.Duration // one clock tick
}

func newProcReader() procReader {
	hz := 100
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && v > 0 {
			hz = v
		}
	}
	return procReader{tick: time.Second / time.Duration(hz)}
}

func (p procReader) stats() map[int]ProcStat {
	ents, _ := os.ReadDir("/proc")
	out := map[int]ProcStat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		if st, err := ParseStat(string(b)); err == nil {
			out[pid] = st
		}
	}
	return out
}

// tree lists root and its live descendants.
func (p procReader) tree(root int) []int {
	st := p.stats()
	parent := make(map[int]int, len(st))
	for pid, s := range st {
		parent[pid] = s.PPID
	}
	return Descendants(root, parent)
}

// TreeCPU is the user+system CPU time used so far by root's process tree.
func (p procReader) TreeCPU(root int) time.Duration {
	st := p.stats()
	parent := make(map[int]int, len(st))
	for pid, s := range st {
		parent[pid] = s.PPID
	}
	var ticks uint64
	for _, pid := range Descendants(root, parent) {
		ticks += st[pid].Ticks
	}
	return time.Duration(ticks) * p.tick
}

// ProcCPU is the CPU time of one process (all its threads) and of the
// children it reaped.
func (p procReader) ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	st, err := ParseStat(string(b))
	if err != nil {
		return 0
	}
	return time.Duration(st.Ticks) * p.tick
}

// statusField reads a "Name:   123 kB" line of a /proc file, in bytes.
func statusField(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+":")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			return 0
		}
		v, _ := strconv.ParseInt(fs[0], 10, 64)
		return v * 1024
	}
	return 0
}

// RSS is the resident set of one process, in bytes.
func (p procReader) RSS(pid int) int64 {
	return statusField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
}

// TreePSS sums the proportional set size over root's tree: shared pages
// (PostgreSQL's shared buffers, say) are counted once across the tree.
func (p procReader) TreePSS(root int) int64 {
	var sum int64
	for _, pid := range p.tree(root) {
		sum += statusField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss")
	}
	return sum
}
