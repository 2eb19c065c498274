package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// sseWriter writes one Server-Sent Events response. The status and headers
// go out with the first event (or the first heartbeat), so a request that
// fails early still gets an ordinary JSON error. Every event is flushed as
// it is written; while nothing is written for Options.HeartbeatInterval a
// comment line keeps proxies and clients from timing the stream out. Each
// event (not a heartbeat) pushes the write deadline Options.WriteTimeout
// further, so a stream lives as long as it makes progress.
//
// A write error means the client went away: it is remembered, every later
// write returns it, and so the producer (AskStream's emit) stops. The
// request's context is cancelled by net/http at the same moment.
type sseWriter struct {
	s     *Server
	w     http.ResponseWriter
	rc    *http.ResponseController
	route string
	start time.Time // the request's arrival, for time to first token

	mu       sync.Mutex // guards the fields below and every write
	started  bool
	err      error     // the first write error
	last     time.Time // the last write, for the heartbeat
	tokens   int
	stopBeat chan struct{}
	beatDone chan struct{}
}

// newSSE prepares a stream and starts its heartbeat; the caller must call
// close before the handler returns.
func (s *Server) newSSE(w http.ResponseWriter, route string, start time.Time) *sseWriter {
	e := &sseWriter{s: s, w: w, rc: http.NewResponseController(w), route: route, start: start, last: time.Now()}
	if iv := s.opts.HeartbeatInterval; iv > 0 {
		e.stopBeat, e.beatDone = make(chan struct{}), make(chan struct{})
		go e.heartbeat(iv, e.stopBeat, e.beatDone)
	}
	return e
}

// beginLocked writes the status and headers.
func (e *sseWriter) beginLocked() {
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Del("Content-Length")
	e.w.WriteHeader(http.StatusOK)
}

// heartbeat writes a comment whenever the stream has been idle for iv. If
// nothing was streamed yet (a slow first step, such as condensing a
// conversation with the model), the first heartbeat begins the stream, so
// the client sees headers and proxies see traffic; a later failure is then
// an error event.
func (e *sseWriter) heartbeat(iv time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			e.mu.Lock()
			if e.err == nil && now.Sub(e.last) >= iv {
				e.writeLocked([]byte(": keep-alive\n\n"), false)
			}
			e.mu.Unlock()
		}
	}
}

// writeLocked writes b and flushes it. progress extends the write deadline.
func (e *sseWriter) writeLocked(b []byte, progress bool) error {
	if e.err != nil {
		return e.err
	}
	if !e.started {
		e.beginLocked()
	}
	if progress {
		// Not every ResponseWriter supports deadlines (httptest's recorder);
		// then the server's own WriteTimeout stays in force.
		_ = e.rc.SetWriteDeadline(time.Now().Add(e.s.opts.WriteTimeout))
	}
	if _, err := e.w.Write(b); err != nil {
		e.err = fmt.Errorf("streaming to the client: %w", err)
		return e.err
	}
	if err := e.rc.Flush(); err != nil {
		e.err = fmt.Errorf("flushing to the client: %w", err)
		return e.err
	}
	e.last = time.Now()
	return nil
}

// event writes one event: "event: name" (omitted when name is "") and v as
// one JSON data line. encoding/json escapes newlines inside strings, so the
// data is always a single line.
func (e *sseWriter) event(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the %s event: %w", name, err)
	}
	return e.raw(name, data)
}

// raw writes one event whose data is the single line data.
func (e *sseWriter) raw(name string, data []byte) error {
	var b bytes.Buffer
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.writeLocked(b.Bytes(), true)
}

// token is event for a piece of the answer text: it also feeds the time to
// first token and the streamed-token metrics.
func (e *sseWriter) token(name string, v any) error {
	if err := e.event(name, v); err != nil {
		return err
	}
	e.mu.Lock()
	e.tokens++
	first := e.tokens == 1
	e.mu.Unlock()
	if first {
		e.s.metrics.ttft.WithLabelValues(e.route).Observe(time.Since(e.start).Seconds())
	}
	e.s.metrics.streamed.WithLabelValues(e.route).Inc()
	return nil
}

// errNotStreamed stops an sseWriter whose response went out as JSON.
var errNotStreamed = errors.New("the response was not streamed")

// begun reports whether the status line has been sent, after which an
// error can only be reported inside the stream. If it has not, it never
// will be (the heartbeat stays silent): the response belongs to the
// caller, which writes an ordinary JSON error.
func (e *sseWriter) begun() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started && e.err == nil {
		e.err = errNotStreamed
	}
	return e.started
}

// clientGone reports whether a write failed (the client disconnected).
func (e *sseWriter) clientGone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err != nil
}

// close stops the heartbeat and waits for it. The handler calls it before
// returning; nothing may be written afterwards.
func (e *sseWriter) close() {
	e.mu.Lock()
	stop, done := e.stopBeat, e.beatDone
	e.stopBeat = nil
	e.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
