package embed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var protocols = []string{"openai", "ollama", "tei"}

// newClient returns an embedder for the fake's protocol, with fast
// backoff unless opts says otherwise.
func newClient(t testing.TB, f *protocolFake, opts HTTPOptions) *HTTP {
	t.Helper()
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	var h *HTTP
	var err error
	switch f.proto {
	case "openai":
		h, err = NewOpenAI(f.srv.URL, f.model, opts)
	case "ollama":
		h, err = NewOllama(f.srv.URL, f.model, opts)
	default:
		h, err = NewTEI(f.srv.URL, "", opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("text number %d", i)
	}
	return out
}

func TestHTTPEmbed(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFake(t, proto, 24)
			h := newClient(t, f, HTTPOptions{QueryPrefix: "q: ", PassagePrefix: "p: "})
			if h.Dim() != 0 {
				t.Fatalf("Dim before any response = %d, want 0", h.Dim())
			}
			in := texts(150)
			got, err := h.Embed(context.Background(), in, Passage)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(in) {
				t.Fatalf("%d vectors for %d texts", len(got), len(in))
			}
			for i, v := range got {
				if want := fakeVector("p: "+in[i], 24); !slices.Equal(v, want) {
					t.Fatalf("vector %d differs from the fake's vector of %q", i, "p: "+in[i])
				}
			}
			batch := 64
			if proto == "tei" {
				batch = 32
			}
			wantReqs := (len(in) + batch - 1) / batch
			if f.requests() != wantReqs {
				t.Errorf("%d requests, want %d (batches of %d)", f.requests(), wantReqs, batch)
			}
			for i, b := range f.batches() {
				if len(b) > batch || (i < wantReqs-1 && len(b) != batch) {
					t.Errorf("request %d carried %d texts", i, len(b))
				}
			}
			if h.Dim() != 24 {
				t.Errorf("Dim = %d, want 24 learned from the response", h.Dim())
			}
			q, err := h.Embed(context.Background(), []string{"hello"}, Query)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(q[0], fakeVector("q: hello", 24)) {
				t.Error("query prefix not applied")
			}
			st := h.Stats()
			if st.Calls != 2 || st.Texts != 151 || st.Requests != int64(wantReqs+1) || st.Retries != 0 {
				t.Errorf("stats %+v", st)
			}
			if got, err := h.Embed(context.Background(), nil, Query); err != nil || len(got) != 0 || f.requests() != wantReqs+1 {
				t.Errorf("empty input: %v, %d vectors, %d requests", err, len(got), f.requests())
			}
		})
	}
}

func TestHTTPNames(t *testing.T) {
	f := newFake(t, "tei", 4)
	h := newClient(t, f, HTTPOptions{})
	if want := "tei:" + strings.TrimPrefix(f.srv.URL, "http://"); h.Name() != want {
		t.Errorf("Name = %q, want %q", h.Name(), want)
	}
	o := newClient(t, newFake(t, "openai", 4), HTTPOptions{})
	if o.Name() != "openai:fake-embed" {
		t.Errorf("Name = %q", o.Name())
	}
}

func TestEndpointPath(t *testing.T) {
	for _, tc := range []struct {
		proto protocol
		base  string
		want  string
	}{
		{openAIProtocol, "https://api.openai.com", "https://api.openai.com/v1/embeddings"},
		{openAIProtocol, "https://api.openai.com/", "https://api.openai.com/v1/embeddings"},
		{openAIProtocol, "https://api.openai.com/v1", "https://api.openai.com/v1/embeddings"},
		{openAIProtocol, "https://h/proxy/v1/", "https://h/proxy/v1/embeddings"},
		{openAIProtocol, "https://h/v1/embeddings", "https://h/v1/embeddings"},
		{ollamaProtocol, "http://127.0.0.1:11434", "http://127.0.0.1:11434/api/embed"},
		{ollamaProtocol, "http://127.0.0.1:11434/api", "http://127.0.0.1:11434/api/embed"},
		{teiProtocol, "http://h:8081", "http://h:8081/embed"},
		{teiProtocol, "http://u:secret@h:8081/tei", "http://u:xxxxx@h:8081/tei/embed"},
	} {
		h, err := newHTTP(tc.proto, tc.base, "m", "n", HTTPOptions{}, 8)
		if err != nil {
			t.Fatal(err)
		}
		if h.Endpoint() != tc.want {
			t.Errorf("%s %s: endpoint %s, want %s", tc.proto.name, tc.base, h.Endpoint(), tc.want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:11434", "ftp://h", "http://", "http://h?x=1"} {
		if _, err := NewTEI(bad, "m", HTTPOptions{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("base %q: err %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := NewOpenAI("http://h", "", HTTPOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("openai without model: %v", err)
	}
	if _, err := NewOllama("http://h", "m", HTTPOptions{Timeout: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative timeout: %v", err)
	}
}

func TestHTTPRetry5xx(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFake(t, proto, 8)
			f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
				switch n {
				case 1:
					f.writeError(w, http.StatusServiceUnavailable, "model is loading")
					return true
				case 2:
					f.writeError(w, http.StatusBadGateway, "upstream reset")
					return true
				}
				return false
			})
			h := newClient(t, f, HTTPOptions{})
			got, err := h.Embed(context.Background(), []string{"a", "b"}, Passage)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[1], fakeVector("b", 8)) {
				t.Error("wrong vector after retries")
			}
			if f.requests() != 3 || h.Stats().Retries != 2 || h.Stats().Requests != 3 {
				t.Errorf("%d requests, stats %+v; want 3 requests, 2 retries", f.requests(), h.Stats())
			}
		})
	}
}

func TestHTTPRetriesExhausted(t *testing.T) {
	f := newFake(t, "ollama", 8)
	f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
		f.writeError(w, http.StatusInternalServerError, "CUDA out of memory")
		return true
	})
	h := newClient(t, f, HTTPOptions{Retries: 2})
	_, err := h.Embed(context.Background(), []string{"a"}, Query)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 || se.Message != "CUDA out of memory" {
		t.Fatalf("err = %v, want a 500 StatusError with the server's message", err)
	}
	for _, part := range []string{"ollama", f.srv.URL + "/api/embed", "500 Internal Server Error", "CUDA out of memory", "after 3 attempts"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	if f.requests() != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", f.requests())
	}

	f2 := newFake(t, "ollama", 8)
	f2.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
		f2.writeError(w, http.StatusServiceUnavailable, "busy")
		return true
	})
	h2 := newClient(t, f2, HTTPOptions{Retries: -1})
	if _, err := h2.Embed(context.Background(), []string{"a"}, Query); err == nil || f2.requests() != 1 {
		t.Errorf("Retries -1: err %v after %d requests, want an error after 1", err, f2.requests())
	}
}

func TestHTTP429RetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header string
		value  func() string
		min    time.Duration
	}{
		{"Retry-After", func() string { return "1" }, time.Second},
		{"Retry-After-Ms", func() string { return "150" }, 150 * time.Millisecond},
		// An HTTP date has whole seconds: 2s from now is 1 to 2s away.
		{"Retry-After", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, time.Second},
	} {
		t.Run(tc.header, func(t *testing.T) {
			f := newFake(t, "openai", 8)
			f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
				if n == 1 {
					w.Header().Set(tc.header, tc.value())
					f.writeError(w, http.StatusTooManyRequests, "Rate limit reached for requests")
					return true
				}
				return false
			})
			// A backoff of an hour: only the header can make the retry come soon.
			h := newClient(t, f, HTTPOptions{Backoff: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			t0 := time.Now()
			if _, err := h.Embed(ctx, []string{"a"}, Query); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(t0); el < tc.min || el > 5*time.Second {
				t.Errorf("retried after %v, want about %v", el, tc.min)
			}
			if f.requests() != 2 {
				t.Errorf("%d requests, want 2", f.requests())
			}
		})
	}
}

func TestHTTPRetryAfterPastDeadline(t *testing.T) {
	f := newFake(t, "openai", 8)
	f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
		w.Header().Set("Retry-After", "60")
		f.writeError(w, http.StatusTooManyRequests, "slow down")
		return true
	})
	h := newClient(t, f, HTTPOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	t0 := time.Now()
	_, err := h.Embed(ctx, []string{"a"}, Query)
	if err == nil || !strings.Contains(err.Error(), "past the context deadline") || time.Since(t0) > time.Second {
		t.Errorf("err %v after %v: want an immediate error about the deadline", err, time.Since(t0))
	}
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter != time.Minute {
		t.Errorf("StatusError %+v, want RetryAfter 1m", se)
	}
}

func TestHTTPPermanentErrors(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFake(t, proto, 8)
			f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
				f.writeError(w, http.StatusBadRequest, "This model's maximum context length is 8191 tokens")
				return true
			})
			h := newClient(t, f, HTTPOptions{})
			_, err := h.Embed(context.Background(), []string{"a"}, Passage)
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != 400 {
				t.Fatalf("err %v, want a 400 StatusError", err)
			}
			if !strings.Contains(err.Error(), "maximum context length is 8191") || !strings.Contains(err.Error(), f.srv.URL) {
				t.Errorf("error %q lacks the server's message or the endpoint", err)
			}
			if f.requests() != 1 {
				t.Errorf("a 400 was sent %d times, want once", f.requests())
			}
		})
	}
	// The fake's own protocol checks: a wrong model (404), a wrong key (401),
	// TEI's batch limit (413).
	f := newFake(t, "ollama", 8)
	h, _ := NewOllama(f.srv.URL, "nomic-embed-text", HTTPOptions{})
	defer h.Close()
	if _, err := h.Embed(context.Background(), []string{"a"}, Query); err == nil || !strings.Contains(err.Error(), `model "nomic-embed-text" not found`) {
		t.Errorf("unknown model: %v", err)
	}
	fo := newFake(t, "openai", 8)
	fo.apiKey = "sk-right"
	ho := newClient(t, fo, HTTPOptions{APIKey: "sk-wrong"})
	var se *StatusError
	if _, err := ho.Embed(context.Background(), []string{"a"}, Query); !errors.As(err, &se) || se.StatusCode != 401 || fo.requests() != 1 {
		t.Errorf("wrong key: %v after %d requests", err, fo.requests())
	}
	ho2 := newClient(t, fo, HTTPOptions{APIKey: "sk-right"})
	if _, err := ho2.Embed(context.Background(), []string{"a"}, Query); err != nil {
		t.Errorf("right key: %v", err)
	}
	ft := newFake(t, "tei", 8)
	ht := newClient(t, ft, HTTPOptions{MaxBatch: 40})
	if _, err := ht.Embed(context.Background(), texts(40), Query); !errors.As(err, &se) || se.StatusCode != 413 || ft.requests() != 1 {
		t.Errorf("TEI over its batch limit: %v after %d requests", err, ft.requests())
	}
}

func TestHTTPErrorMessageTruncated(t *testing.T) {
	f := newFake(t, "tei", 8)
	f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("<html>\n<body>" + strings.Repeat("é", 5000) + "</body></html>"))
		return true
	})
	h := newClient(t, f, HTTPOptions{})
	_, err := h.Embed(context.Background(), []string{"a"}, Query)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	if len(se.Message) > maxErrorMessage+len("…") || !strings.HasSuffix(se.Message, "…") || !strings.HasPrefix(se.Message, "<html> <body>é") {
		t.Errorf("message %q (%d bytes) not truncated to one line of ≤ %d bytes", se.Message, len(se.Message), maxErrorMessage)
	}
}

func TestHTTPTimeout(t *testing.T) {
	for _, retries := range []int{-1, 1} {
		t.Run(fmt.Sprint("retries", retries), func(t *testing.T) {
			f := newFake(t, "tei", 8)
			f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
				return true
			})
			h := newClient(t, f, HTTPOptions{Timeout: 100 * time.Millisecond, Retries: retries})
			t0 := time.Now()
			_, err := h.Embed(context.Background(), []string{"a"}, Query)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "within 100ms") {
				t.Errorf("err = %v, want a timeout", err)
			}
			want := max(retries, 0) + 1
			if el := time.Since(t0); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			// The server may see the last request a moment after the client gave up.
			deadline := time.Now().Add(2 * time.Second)
			for f.requests() < want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if f.requests() != want {
				t.Errorf("%d requests, want %d", f.requests(), want)
			}
		})
	}
}

func TestHTTPCancel(t *testing.T) {
	t.Run("during backoff", func(t *testing.T) {
		f := newFake(t, "ollama", 8)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
			w.Header().Set("Retry-After", "30")
			f.writeError(w, http.StatusServiceUnavailable, "loading")
			go func() { time.Sleep(50 * time.Millisecond); cancel() }()
			return true
		})
		h := newClient(t, f, HTTPOptions{})
		t0 := time.Now()
		_, err := h.Embed(ctx, []string{"a"}, Query)
		if !errors.Is(err, context.Canceled) || time.Since(t0) > 2*time.Second {
			t.Errorf("err %v after %v, want Canceled at once", err, time.Since(t0))
		}
		if f.requests() != 1 {
			t.Errorf("%d requests after cancel", f.requests())
		}
	})
	t.Run("during request", func(t *testing.T) {
		f := newFake(t, "openai", 8)
		f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
			<-r.Context().Done()
			return true
		})
		h := newClient(t, f, HTTPOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := h.Embed(ctx, texts(3), Passage)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 2*time.Second {
			t.Errorf("err %v after %v", err, time.Since(t0))
		}
		if h.Stats().Retries != 0 {
			t.Errorf("retried after the caller's context ended: %+v", h.Stats())
		}
	})
}

func TestHTTPBadResponses(t *testing.T) {
	nums := func(vals ...string) []string { return vals }
	for _, tc := range []struct {
		name  string
		reply func(f *protocolFake, w http.ResponseWriter, texts []string)
		want  []string // substrings of the error
		isVec bool     // errors.Is ErrVector
	}{
		{"count", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeVectors(w, [][]float32{fakeVector(texts[0], 8)})
		}, []string{"1 vectors for 2 texts"}, false},
		{"NaN", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums("0.5", "NaN", "0.1"), nums("1", "2", "3")})
		}, []string{"text 0", "component 1 is NaN"}, true},
		{"Infinity", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums("1", "2", "3"), nums("0.5", "0.1", "-Infinity")})
		}, []string{"text 1", "component 2 is -Inf"}, true},
		{"float32 overflow", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums("1e39", "2", "3"), nums("1", "2", "3")})
		}, []string{"text 0", "component 0 is +Inf"}, true},
		{"ragged", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums("1", "2", "3"), nums("1", "2")})
		}, []string{"text 1", "2-dimensional", "dimension is 3"}, true},
		{"empty vector", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums(), nums()})
		}, []string{"text 0", "empty"}, true},
		{"not JSON", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			w.Write([]byte("<html>gateway</html>"))
		}, []string{"malformed JSON", "200 OK"}, false},
		{"string component", func(f *protocolFake, w http.ResponseWriter, texts []string) {
			f.writeRaw(w, [][]string{nums(`"x"`), nums("1")})
		}, []string{"component 0", "not a number"}, false},
	} {
		for _, proto := range protocols {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				f := newFake(t, proto, 3)
				f.setFault(func(n int, w http.ResponseWriter, r *http.Request, texts []string) bool {
					tc.reply(f, w, texts)
					return true
				})
				h := newClient(t, f, HTTPOptions{})
				_, err := h.Embed(context.Background(), []string{"a", "b"}, Passage)
				if !errors.Is(err, ErrResponse) {
					t.Fatalf("err = %v, want ErrResponse", err)
				}
				if errors.Is(err, ErrVector) != tc.isVec {
					t.Errorf("errors.Is(err, ErrVector) = %v: %v", !tc.isVec, err)
				}
				for _, s := range append(tc.want, proto, f.srv.URL) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if f.requests() != 1 {
					t.Errorf("bad 2xx answer retried: %d requests", f.requests())
				}
			})
		}
	}
}

func TestHTTPDimension(t *testing.T) {
	f := newFake(t, "ollama", 8)
	h := newClient(t, f, HTTPOptions{})
	if _, err := h.Embed(context.Background(), []string{"a"}, Query); err != nil || h.Dim() != 8 {
		t.Fatalf("first call: %v, dim %d", err, h.Dim())
	}
	f.setDim(12)
	_, err := h.Embed(context.Background(), []string{"b"}, Query)
	if !errors.Is(err, ErrResponse) || !errors.Is(err, ErrVector) || !strings.Contains(err.Error(), "12-dimensional") ||
		!strings.Contains(err.Error(), "dimension learned from the first response is 8") {
		t.Errorf("dimension change: %v", err)
	}
	if h.Dim() != 8 {
		t.Errorf("Dim changed to %d", h.Dim())
	}
	// A dimension given in the options is checked from the first response.
	g := newClient(t, f, HTTPOptions{Dim: 384})
	if g.Dim() != 384 {
		t.Errorf("Dim = %d, want 384 before any request", g.Dim())
	}
	if _, err := g.Embed(context.Background(), []string{"b"}, Query); !errors.Is(err, ErrVector) || !strings.Contains(err.Error(), "configured dimension is 384") {
		t.Errorf("given dimension: %v", err)
	}
}

func TestHTTPClosedAndKind(t *testing.T) {
	f := newFake(t, "tei", 8)
	h := newClient(t, f, HTTPOptions{})
	if _, err := h.Embed(context.Background(), []string{"a"}, Kind(0)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Kind(0): %v", err)
	}
	h.Close()
	if _, err := h.Embed(context.Background(), []string{"a"}, Query); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if f.requests() != 0 {
		t.Errorf("%d requests", f.requests())
	}
}

func TestHTTPConcurrent(t *testing.T) {
	f := newFake(t, "openai", 16)
	h := newClient(t, f, HTTPOptions{MaxBatch: 5})
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			in := texts(23)
			for i := range in {
				in[i] += fmt.Sprint(" from ", g)
			}
			got, err := h.Embed(context.Background(), in, Passage)
			if err == nil {
				for i := range in {
					if !slices.Equal(got[i], fakeVector(in[i], 16)) {
						err = fmt.Errorf("goroutine %d: vector %d is another text's", g, i)
						break
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if f.requests() != 8*5 {
		t.Errorf("%d requests, want 40", f.requests())
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {"-4"}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"100000"}}, maxRetryAfter},
		{http.Header{"Retry-After": {now.Add(7 * time.Second).Format(http.TimeFormat)}}, 7 * time.Second},
		{http.Header{"Retry-After": {now.Add(-7 * time.Second).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	h := &HTTP{opts: HTTPOptions{Backoff: 100 * time.Millisecond}}
	for attempt := range 200 {
		want := min(100*time.Millisecond<<min(attempt, 20), maxBackoff)
		for range 20 {
			if d := h.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	h.opts.Backoff = time.Hour
	if d := h.backoff(0); d > maxBackoff {
		t.Errorf("backoff %v above the cap", d)
	}
}

func TestHTTPNetworkErrors(t *testing.T) {
	f := newFake(t, "ollama", 8)
	f.setFault(func(n int, w http.ResponseWriter, r *http.Request, _ []string) bool {
		if n == 1 { // drop the connection without an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}
		return false
	})
	h := newClient(t, f, HTTPOptions{})
	if _, err := h.Embed(context.Background(), []string{"a"}, Query); err != nil {
		t.Fatalf("dropped connection not retried: %v", err)
	}
	if h.Stats().Retries < 1 {
		t.Errorf("stats %+v, want a retry", h.Stats())
	}

	dead := newFake(t, "ollama", 8)
	dead.srv.Close()
	hd := newClient(t, dead, HTTPOptions{Retries: 2})
	_, err := hd.Embed(context.Background(), []string{"a"}, Query)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "after 3 attempts") ||
		strings.Count(err.Error(), dead.srv.URL) != 1 {
		t.Errorf("refused connection: %v", err)
	}
	if hd.Stats().Requests != 3 {
		t.Errorf("stats %+v", hd.Stats())
	}
}
