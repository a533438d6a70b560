package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter gathers log lines into fewer writes. At info level the access
// log is a line per request, and a write system call per line was a
// measurable share of a small request's CPU. A line reaches the
// underlying writer within flushAfter of being logged, and every line does
// on Close; a crash may lose the last flushAfter of them.
type logWriter struct {
	mu         sync.Mutex
	buf        *bufio.Writer
	flushAfter time.Duration
	armed      bool // a flush is scheduled
	closed     bool // Close ran: write through
}

func newLogWriter(w io.Writer, flushAfter time.Duration) *logWriter {
	return &logWriter{buf: bufio.NewWriterSize(w, 64<<10), flushAfter: flushAfter}
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	if err != nil || l.closed {
		return n, l.flushLocked(err)
	}
	if !l.armed {
		l.armed = true
		time.AfterFunc(l.flushAfter, l.flush)
	}
	return n, nil
}

func (l *logWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.flushLocked(nil)
}

func (l *logWriter) flushLocked(err error) error {
	l.armed = false
	if ferr := l.buf.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Close writes out what is buffered; later lines are written at once.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return l.flushLocked(nil)
}
