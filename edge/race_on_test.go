//go:build race

package edge

// raceEnabled skips timing assertions: the race detector slows code by
// 5-20x unevenly, so latency ratios mean nothing under it.
const raceEnabled = true
