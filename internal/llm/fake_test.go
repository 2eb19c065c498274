package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Protocol fakes: httptest servers speaking the wire formats, used only for
// faults the real server cannot be made to produce (a 503 then success, a cut stream).

func TestFakeRetry503ThenSuccess(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/api/chat":
			fmt.Fprintln(w, `{"message":{"content":"ok"},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":1}`)
		default:
			fmt.Fprint(w, `{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`)
		}
	}))
	defer srv.Close()
	opts := &Options{Backoff: time.Millisecond}
	for name, c := range map[string]Chat{"openai": NewOpenAI(srv.URL, opts), "ollama": NewOllama(srv.URL, opts)} {
		calls.Store(0)
		r, err := c.Complete(context.Background(), Request{Model: "m", Messages: []Message{{"user", "hi"}}})
		if err != nil || r.Content != "ok" || r.Usage != (Usage{3, 1}) || calls.Load() != 2 {
			t.Fatalf("%s: %+v %v calls=%d", name, r, err, calls.Load())
		}
	}
}

func TestFakeStreamCutIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path == "/api/chat" {
			fmt.Fprintln(w, `{"message":{"content":"Hel"},"done":false}`)
		} else {
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut the connection mid-stream
	}))
	defer srv.Close()
	opts := &Options{Backoff: time.Millisecond}
	for name, c := range map[string]Chat{"openai": NewOpenAI(srv.URL, opts), "ollama": NewOllama(srv.URL, opts)} {
		calls.Store(0)
		var got []string
		_, err := c.Stream(context.Background(), Request{Model: "m", Messages: []Message{{"user", "hi"}}}, func(d Delta) error {
			got = append(got, d.Content)
			return nil
		})
		if err == nil || calls.Load() != 1 || strings.Join(got, "") != "Hel" {
			t.Fatalf("%s: err=%v calls=%d deltas=%q", name, err, calls.Load(), got)
		}
	}
}

func TestFakeCallbackErrorAborts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	stop := errors.New("enough")
	_, err := NewOpenAI(srv.URL, nil).Stream(context.Background(), Request{Model: "m", Messages: []Message{{"user", "hi"}}},
		func(Delta) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzReadSSE(f *testing.F) {
	f.Add("data: {\"a\":1}\n\ndata: [DONE]\n")
	f.Add(": comment\nevent: x\ndata:\n")
	f.Fuzz(func(t *testing.T, s string) {
		var n int
		_ = readSSE(strings.NewReader(s), func(b []byte) error { n++; return nil })
		if n > strings.Count(s, "data:") {
			t.Fatalf("%d events from %d data lines", n, strings.Count(s, "data:"))
		}
	})
}

func FuzzReadNDJSON(f *testing.F) {
	f.Add("{\"done\":false}\n{\"done\":true}\n")
	f.Fuzz(func(t *testing.T, s string) {
		var n int
		_ = readNDJSON(strings.NewReader(s), func([]byte) (bool, error) { n++; return false, nil })
		if n > strings.Count(s, "\n")+1 {
			t.Fatalf("%d lines", n)
		}
	})
}
