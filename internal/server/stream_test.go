package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	name string // "" when the event has no event: line
	data string
}

// parseSSE splits a text/event-stream body into events and comments,
// failing on anything the format does not allow.
func parseSSE(t *testing.T, body []byte) (events []sseEvent, comments []string) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Errorf("the stream does not end with a blank line: %q", tail(body))
	}
	var cur sseEvent
	var has bool
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if has {
				events = append(events, cur)
			}
			cur, has = sseEvent{}, false
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		case strings.HasPrefix(line, "event: "):
			cur.name, has = strings.TrimPrefix(line, "event: "), true
		case strings.HasPrefix(line, "data: "):
			if cur.data != "" {
				t.Errorf("an event has two data lines: %q", line)
			}
			cur.data, has = strings.TrimPrefix(line, "data: "), true
		default:
			t.Errorf("unexpected line in the stream: %q", line)
		}
	}
	return events, comments
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

// validateEvent checks an event's data against a schema of openapi.json.
func (h *harness) validateEvent(ev sseEvent, schema string) map[string]any {
	h.t.Helper()
	dec := json.NewDecoder(strings.NewReader(ev.data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		h.t.Fatalf("event %s: data is not JSON: %v: %s", ev.name, err, ev.data)
	}
	for _, e := range validate(loadSpec(h.t), resolve(loadSpec(h.t), "#/components/schemas/"+schema), x, "$") {
		h.t.Errorf("event %s does not match %s: %s", ev.name, schema, e)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		h.t.Fatal(err)
	}
	return m
}

func seedRocks(t *testing.T, h *harness) {
	t.Helper()
	h.upsert("rocks",
		map[string]any{"id": "granite", "title": "Granite", "text": "Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar."},
		map[string]any{"id": "basalt", "title": "Basalt", "text": "Basalt forms when lava cools quickly at the surface. It is dark and fine grained."},
		map[string]any{"id": "rivers", "title": "Rivers", "text": "Rivers carve valleys over millions of years."},
	)
}

// TestAskStream: "stream": true answers with Server-Sent Events in the
// documented order, with the streaming headers, and the streamed answer is
// the JSON answer.
func TestAskStream(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	const q = "How does granite form?"
	plain := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": q}).mustStatus(t, http.StatusOK)
	r := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": q, "stream": true}).mustStatus(t, http.StatusOK)
	for k, want := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	events, _ := parseSSE(t, r.body)
	var names []string
	for _, ev := range events {
		names = append(names, ev.name)
	}
	// retrieval, token+, citations, done
	if len(names) < 4 || names[0] != "retrieval" || names[len(names)-2] != "citations" || names[len(names)-1] != "done" {
		t.Fatalf("event order %v, want retrieval token+ citations done", names)
	}
	var text strings.Builder
	for _, ev := range events[1 : len(events)-2] {
		if ev.name != "token" {
			t.Fatalf("event order %v: %s among the tokens", names, ev.name)
		}
		text.WriteString(h.validateEvent(ev, "TokenEvent")["text"].(string))
	}
	retrieval := h.validateEvent(events[0], "RetrievalEvent")
	cites := h.validateEvent(events[len(events)-2], "CitationsEvent")
	done := h.validateEvent(events[len(events)-1], "AskResponse")
	if text.String() != done["answer"] || done["answer"] != plain.str("answer") {
		t.Errorf("streamed tokens %q, done answer %q, JSON answer %q: all three must be equal", text.String(), done["answer"], plain.str("answer"))
	}
	if !strings.Contains(text.String(), "Granite forms from slowly cooling magma") {
		t.Errorf("the answer does not quote the source: %q", text.String())
	}
	if fmt.Sprint(cites["citations"]) != fmt.Sprint(plain.get("citations")) || len(plain.list("citations")) == 0 {
		t.Errorf("streamed citations %v, JSON %v", cites["citations"], plain.get("citations"))
	}
	if ids := hitIDs(retrieval["sources"].([]any)); len(ids) == 0 || ids[0] != "granite" {
		t.Errorf("retrieval sources %v, want granite first", ids)
	}
}

// TestAskStreamErrors: bad input to a streamed ask is an ordinary JSON
// error naming the field (nothing was streamed yet), never an event stream.
func TestAskStreamErrors(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	const ask = "/v1/collections/rocks/ask"
	tests := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"stream not a boolean", `{"question":"x","stream":"yes"}`, 400, codeInvalid, "stream"},
		{"stream a number", `{"question":"x","stream":1}`, 400, codeInvalid, "stream"},
		{"temperature too high", `{"question":"x","stream":true,"temperature":2.5}`, 400, codeInvalid, "temperature"},
		{"temperature negative", `{"question":"x","temperature":-1}`, 400, codeInvalid, "temperature"},
		{"temperature a string", `{"question":"x","temperature":"hot"}`, 400, codeInvalid, "temperature"},
		{"top_p zero", `{"question":"x","stream":true,"top_p":0}`, 400, codeInvalid, "top_p"},
		{"top_p above 1", `{"question":"x","top_p":1.5}`, 400, codeInvalid, "top_p"},
		{"top_k negative", `{"question":"x","top_k":-3}`, 400, codeInvalid, "top_k"},
		{"top_k fractional", `{"question":"x","top_k":1.5}`, 400, codeInvalid, "top_k"},
		{"max_tokens zero", `{"question":"x","max_tokens":0}`, 400, codeInvalid, "max_tokens"},
		{"max_tokens huge", `{"question":"x","max_tokens":1000000}`, 400, codeInvalid, "max_tokens"},
		{"too many stops", `{"question":"x","stop":["a","b","c","d","e"]}`, 400, codeInvalid, "stop"},
		{"empty stop", `{"question":"x","stop":["a",""]}`, 400, codeInvalid, "stop[1]"},
		{"stop a number", `{"question":"x","stop":5}`, 400, codeInvalid, "stop"},
		{"repeat_penalty zero", `{"question":"x","repeat_penalty":0}`, 400, codeInvalid, "repeat_penalty"},
		{"seed a string", `{"question":"x","seed":"abc"}`, 400, codeInvalid, "seed"},
		{"empty question, streamed", `{"question":" ","stream":true}`, 400, codeInvalid, "question"},
		{"too-long question, streamed", fmt.Sprintf(`{"question":%q,"stream":true}`, strings.Repeat("word ", 2000)), 413, codeTooLarge, "question"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", ask, tt.body)
			wantError(t, r, tt.status, tt.code, tt.field)
		})
	}
	r := h.do("POST", "/v1/collections/nope/ask", `{"question":"x","stream":true}`)
	wantError(t, r, 404, codeNotFound, "")
	// Valid decoding parameters and a string stop are accepted.
	h.do("POST", ask, `{"question":"granite","stream":true,"temperature":0,"top_p":1,"top_k":0,"seed":7,"max_tokens":64,"stop":"\n\n","repeat_penalty":1.1}`).mustStatus(t, http.StatusOK)
	// A body over the limit is refused before anything streams.
	hs := newHarness(t, Options{MaxQueryBodyBytes: 64})
	seedRocks(t, hs)
	wantError(t, hs.do("POST", "/v1/collections/rocks/ask", fmt.Sprintf(`{"question":%q,"stream":true}`, strings.Repeat("a", 100))), 413, codeTooLarge, "")
}

// sseServer serves one handler that streams through an sseWriter, for the
// behaviours the engine's stream cannot be made to show on demand: a slow
// producer (heartbeats), a client that goes away, a failure mid-stream.
func sseServer(t *testing.T, opts Options, produce func(ctx context.Context, sw *sseWriter) error) (*Server, *httptest.Server) {
	t.Helper()
	return sseServerTimeout(t, opts, 0, produce)
}

// sseServerTimeout is sseServer with an http.Server ReadTimeout.
func sseServerTimeout(t *testing.T, opts Options, readTimeout time.Duration, produce func(ctx context.Context, sw *sseWriter) error) (*Server, *httptest.Server) {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(eng, opts)
	s.handle("GET /stream", func(w http.ResponseWriter, r *http.Request) error {
		sw := s.newSSE(w, "/stream", time.Now())
		defer sw.close()
		return s.endStream(sw, r, produce(r.Context(), sw), "error", func(e *apiError) any {
			return errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}}
		})
	})
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ReadTimeout = readTimeout
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		eng.Close()
	})
	return s, ts
}

// TestSSEOutlivesReadTimeout: a stream may last longer than the server's
// ReadTimeout, which bounds reading the request, not answering it (the
// read deadline left on the connection must not cancel the request).
func TestSSEOutlivesReadTimeout(t *testing.T) {
	_, ts := sseServerTimeout(t, Options{}, 100*time.Millisecond, func(ctx context.Context, sw *sseWriter) error {
		for i := range 10 {
			if err := sw.token("token", tokenEvent{Text: fmt.Sprint(i)}); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(40 * time.Millisecond):
			}
		}
		return nil
	})
	res, err := ts.Client().Get(ts.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if events, _ := parseSSE(t, b); len(events) != 10 {
		t.Errorf("%d of 10 events before the stream ended: %q", len(events), b)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	_, ts := sseServer(t, Options{HeartbeatInterval: 20 * time.Millisecond}, func(ctx context.Context, sw *sseWriter) error {
		if err := sw.event("retrieval", retrievalEvent{Sources: []hitOut{}}); err != nil {
			return err
		}
		time.Sleep(150 * time.Millisecond) // a slow model
		return sw.token("token", tokenEvent{Text: "late"})
	})
	res, err := ts.Client().Get(ts.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	events, comments := parseSSE(t, b)
	if len(events) != 2 || events[1].data != `{"text":"late"}` {
		t.Errorf("events %+v", events)
	}
	if len(comments) < 2 {
		t.Errorf("%d heartbeat comments during 150ms of silence with a 20ms interval, want several; body %q", len(comments), b)
	}
}

// TestSSEClientGone: when the client disconnects, the producer's next
// write fails and its context is cancelled, so generation stops.
func TestSSEClientGone(t *testing.T) {
	stopped := make(chan error, 1)
	_, ts := sseServer(t, Options{}, func(ctx context.Context, sw *sseWriter) error {
		for i := 0; ; i++ {
			if err := sw.token("token", tokenEvent{Text: fmt.Sprint(i)}); err != nil {
				stopped <- err
				return err
			}
			select {
			case <-ctx.Done():
				stopped <- ctx.Err()
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/stream", nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(res.Body)
	for range 3 { // read a few events, then hang up
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	res.Body.Close()
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("the producer stopped without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the producer kept generating 5s after the client went away")
	}
}

// TestSSEErrorMidStream: a failure after the stream began is an error
// event with the JSON error body, and the stream ends (no hang).
func TestSSEErrorMidStream(t *testing.T) {
	_, ts := sseServer(t, Options{}, func(ctx context.Context, sw *sseWriter) error {
		if err := sw.token("token", tokenEvent{Text: "Gran"}); err != nil {
			return err
		}
		return fmt.Errorf("generating: %w", quarry.ErrClosed)
	})
	c := ts.Client()
	c.Timeout = 10 * time.Second
	res, err := c.Get(ts.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := parseSSE(t, b)
	if len(events) != 2 || events[0].name != "token" || events[1].name != "error" {
		t.Fatalf("events %+v, want token then error", events)
	}
	var body errorBody
	if err := json.Unmarshal([]byte(events[1].data), &body); err != nil || body.Error.Code != codeUnavailable || body.Error.Message == "" {
		t.Errorf("error event %q (%v), want code %s with a message", events[1].data, err, codeUnavailable)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestSSEErrorBeforeStart: a failure before the first event is an
// ordinary JSON error with its status.
func TestSSEErrorBeforeStart(t *testing.T) {
	_, ts := sseServer(t, Options{}, func(ctx context.Context, sw *sseWriter) error {
		return invalid("temperature", "bad")
	})
	res, err := ts.Client().Get(ts.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(b), `"field":"temperature"`) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
}

// TestStreamMetrics: a streamed answer feeds the time-to-first-token
// histogram and the streamed-token counter of its route.
func TestStreamMetrics(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": "How does granite form?", "stream": true}).mustStatus(t, http.StatusOK)
	h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": "How does granite form?"}).mustStatus(t, http.StatusOK)
	text := string(h.do("GET", "/metrics", nil).mustStatus(t, http.StatusOK).body)
	for _, want := range []string{
		`quarry_http_ttft_seconds_count{route="/v1/collections/{c}/ask"} 1`, // only the streamed request
		`quarry_http_streamed_tokens_total{route="/v1/collections/{c}/ask"} `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestSSESlowStart: when the first event is slow to come (a model
// condensing a conversation), heartbeats begin the stream, and a failure
// after that is an error event, not a JSON response.
func TestSSESlowStart(t *testing.T) {
	_, ts := sseServer(t, Options{HeartbeatInterval: 20 * time.Millisecond}, func(ctx context.Context, sw *sseWriter) error {
		time.Sleep(150 * time.Millisecond)
		return fmt.Errorf("condensing: %w", quarry.ErrClosed)
	})
	res, err := ts.Client().Get(ts.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	events, comments := parseSSE(t, b)
	if res.StatusCode != 200 || len(comments) == 0 || len(events) != 1 || events[0].name != "error" {
		t.Errorf("status %d, %d comments, events %+v; want heartbeats then an error event", res.StatusCode, len(comments), events)
	}
}
