package edge

import "net/http"

// respWriter records the status and size of a response for the access log
// and metrics. Unwrap lets http.ResponseController reach the connection
// (flushing, deadlines) through it.
type respWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// FlushError forwards through whatever wraps the connection (Caddy's
// writers only expose Unwrap), so streamed responses still stream.
func (w *respWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError for callers that use http.Flusher.
func (w *respWriter) Flush() { _ = w.FlushError() }

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
