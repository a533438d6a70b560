package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flusher's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // writes
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func TestLogWriterBatchesAndFlushes(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out, 20*time.Millisecond)
	const lines = 200
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < lines/4; i++ {
				fmt.Fprintf(lw, "goroutine=%d line=%d\n", g, i)
			}
		}()
	}
	wg.Wait()
	// Every line arrives without Close, in far fewer writes than lines.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < lines && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := strings.Count(out.String(), "\n"); got != lines {
		t.Fatalf("%d of %d lines flushed", got, lines)
	}
	if w := out.writes(); w >= lines/2 {
		t.Errorf("%d writes for %d lines: not batched", w, lines)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, i int
		if n, err := fmt.Sscanf(l, "goroutine=%d line=%d", &g, &i); n != 2 || err != nil {
			t.Fatalf("torn line %q", l)
		}
	}
}

func TestLogWriterCloseFlushesAndWritesThrough(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out, time.Hour)
	fmt.Fprintln(lw, "before close")
	if out.String() != "" {
		t.Fatalf("written before its flush: %q", out.String())
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "before close\n" {
		t.Fatalf("after Close: %q", out.String())
	}
	fmt.Fprintln(lw, "after close")
	if out.String() != "before close\nafter close\n" {
		t.Fatalf("a line after Close was held: %q", out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestLogWriterReportsWriteErrors(t *testing.T) {
	lw := newLogWriter(failingWriter{}, time.Hour)
	fmt.Fprintln(lw, "x")
	if err := lw.Close(); err == nil {
		t.Fatal("Close hid the write error")
	}
}
