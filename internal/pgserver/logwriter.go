package pgserver

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// logWriter turns the server's output into slog records, one per line, with
// the level taken from the postgres severity prefix. It keeps the last
// lines so a failed start can say why.
type logWriter struct {
	log *slog.Logger

	mu    sync.Mutex
	buf   []byte
	level slog.Level // of the last line, for DETAIL/HINT continuation lines
	tail  []string
}

const tailLines = 20

func newLogWriter(log *slog.Logger) *logWriter {
	return &logWriter{log: log, level: slog.LevelInfo}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a line with no end in sight: flush it
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// flush logs a final unterminated line.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *logWriter) emit(line string) {
	line = strings.TrimRight(line, "\r\t ")
	if line == "" {
		return
	}
	w.level = lineLevel(line, w.level)
	w.log.Log(context.Background(), w.level, trimSeverity(line))
	w.tail = append(w.tail, line)
	if len(w.tail) > tailLines {
		w.tail = w.tail[len(w.tail)-tailLines:]
	}
}

// lastLines returns the most recent output, for error messages.
func (w *logWriter) lastLines() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.tail, "\n")
}

// lineLevel maps a postgres severity prefix to a slog level; continuation
// lines (DETAIL, HINT, ...) keep the level of the line they belong to.
func lineLevel(line string, prev slog.Level) slog.Level {
	sev, _, ok := strings.Cut(line, ":")
	if !ok {
		return prev
	}
	switch sev {
	case "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5":
		return slog.LevelDebug
	case "LOG", "INFO", "NOTICE":
		return slog.LevelInfo
	case "WARNING":
		return slog.LevelWarn
	case "ERROR", "FATAL", "PANIC":
		return slog.LevelError
	}
	return prev
}

// trimSeverity drops the "LOG:  " style prefix, which the slog level
// already carries; DETAIL, HINT and other continuation prefixes stay.
func trimSeverity(line string) string {
	sev, rest, ok := strings.Cut(line, ":")
	if !ok {
		return line
	}
	switch sev {
	case "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5",
		"LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC":
		return strings.TrimLeft(rest, " ")
	}
	return line
}
