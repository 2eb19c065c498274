package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// HTTPOptions configure the HTTP embedders (NewOpenAI, NewOllama, NewTEI).
// The zero value is valid; every zero field means its default.
type HTTPOptions struct {
	// APIKey is sent as "Authorization: Bearer <APIKey>". Default "":
	// no Authorization header. The package never reads it from the
	// environment.
	APIKey string
	// Timeout bounds each request attempt, from sending to the last byte
	// of the response. It applies to a Client given here too. Default 60s.
	Timeout time.Duration
	// MaxBatch is the most texts sent in one request; Embed splits larger
	// calls. Default 64, except TEI: 32, the default of its
	// --max-client-batch-size, beyond which it answers 413.
	MaxBatch int
	// Retries is how many times a request is retried after a network
	// error, a timeout, 408, 429 or a 5xx other than 501/505. Default 3;
	// negative means never.
	Retries int
	// Backoff is the delay before the first retry, doubled for each
	// further one (at most 30s) and jittered to [d/2, d]. A Retry-After
	// (seconds or HTTP date) or Retry-After-Ms header replaces it (at most
	// 5 minutes). Default 500ms.
	Backoff time.Duration
	// Client sends the requests. Default: a client of its own, with a
	// transport cloned from http.DefaultTransport.
	Client *http.Client
	// QueryPrefix and PassagePrefix are prepended to query and passage
	// texts (e.g. "query: " and "passage: " for an e5 model behind the
	// server). Default "": none.
	QueryPrefix, PassagePrefix string
	// Dim is the expected dimension. Default 0: learned from the first
	// response. Either way, a response of another dimension is an error.
	Dim int
	// MaxTokens is what MaxTokens reports (the server truncates; this
	// package does not count tokens for remote models). Default 0: unknown.
	MaxTokens int
}

const (
	defaultTimeout     = 60 * time.Second
	defaultMaxBatch    = 64
	defaultTEIMaxBatch = 32
	defaultRetries     = 3
	defaultBackoff     = 500 * time.Millisecond
	maxBackoff         = 30 * time.Second
	maxRetryAfter      = 5 * time.Minute
	maxResponseBytes   = 256 << 20
	maxErrorMessage    = 300 // bytes of a server's error message kept in errors
)

func (o *HTTPOptions) validate() error {
	switch {
	case o.Timeout < 0, o.MaxBatch < 0, o.Backoff < 0, o.Dim < 0, o.MaxTokens < 0:
		return fmt.Errorf("%w: negative Timeout, MaxBatch, Backoff, Dim or MaxTokens in HTTPOptions", ErrInvalid)
	}
	return nil
}

func (o *HTTPOptions) ensureDefaults(maxBatch int) {
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = maxBatch
	}
	if o.Retries == 0 {
		o.Retries = defaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff == 0 {
		o.Backoff = defaultBackoff
	}
}

// StatusError is a non-2xx answer of an embedding server.
type StatusError struct {
	Protocol   string        // "openai", "ollama" or "tei"
	Endpoint   string        // the URL posted to (credentials redacted)
	StatusCode int           // e.g. 429
	Status     string        // e.g. "429 Too Many Requests"
	Message    string        // the server's error message, truncated
	RetryAfter time.Duration // from Retry-After / Retry-After-Ms, 0 if absent
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("embed: %s POST %s: %s", e.Protocol, e.Endpoint, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// retryable reports whether a request that got this status may succeed
// when sent again.
func (e *StatusError) retryable() bool {
	c := e.StatusCode
	return c == http.StatusRequestTimeout || c == http.StatusTooManyRequests ||
		(c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported)
}

// protocol is one server API's wire format.
type protocol struct {
	name string
	// suffix is appended to the base URL's path; alt are path endings
	// that already name the endpoint (a base URL given in full), or end
	// where suffix continues (openai's "/v1").
	suffix string
	alt    []string
	// request builds the JSON body for texts.
	request func(model string, texts []string) any
	// decode parses a 2xx body into vectors in input order. Values may
	// be NaN or infinite (JSON extensions some servers emit); the caller
	// checks them.
	decode func(body []byte) ([][]float32, error)
}

// HTTP embeds through an embedding server: OpenAI-compatible
// (/v1/embeddings), Ollama (/api/embed) or Hugging Face text-embeddings-
// inference (/embed). It is safe for concurrent use; each Embed call sends
// its batches one after the other.
type HTTP struct {
	proto     protocol
	endpoint  string // full URL posted to
	display   string // endpoint with credentials redacted
	model     string
	name      string
	opts      HTTPOptions
	client    *http.Client
	ownClient bool
	dim       atomic.Int64 // 0 until known
	closed    atomic.Bool
	stats     counters
}

var _ Embedder = (*HTTP)(nil)

// NewOpenAI returns an embedder for an OpenAI-compatible server (OpenAI,
// vLLM, llama.cpp, LM Studio, LiteLLM, ...): POST {baseURL}/v1/embeddings
// with {"model", "input": [...]}, answered by data[].embedding in any
// order of data[].index. A baseURL that already ends in /v1 or
// /v1/embeddings is used as is. model is required.
func NewOpenAI(baseURL, model string, opts HTTPOptions) (*HTTP, error) {
	if model == "" {
		return nil, fmt.Errorf("%w: openai embedder needs a model name", ErrInvalid)
	}
	return newHTTP(openAIProtocol, baseURL, model, "openai:"+model, opts, defaultMaxBatch)
}

// NewOllama returns an embedder for an Ollama server: POST
// {baseURL}/api/embed with {"model", "input": [...]}, answered by
// {"embeddings": [[...], ...]}. model is required.
func NewOllama(baseURL, model string, opts HTTPOptions) (*HTTP, error) {
	if model == "" {
		return nil, fmt.Errorf("%w: ollama embedder needs a model name", ErrInvalid)
	}
	return newHTTP(ollamaProtocol, baseURL, model, "ollama:"+model, opts, defaultMaxBatch)
}

// NewTEI returns an embedder for a text-embeddings-inference server: POST
// {baseURL}/embed with {"inputs": [...], "truncate": true}, answered by
// [[...], ...]. A TEI server serves one model and takes no model name;
// model (optional) only names the embedder: "tei:<model>", else
// "tei:<host:port>".
func NewTEI(baseURL, model string, opts HTTPOptions) (*HTTP, error) {
	name := "tei:" + model
	if model == "" {
		u, err := url.Parse(baseURL)
		if err != nil {
			return nil, fmt.Errorf("%w: tei base URL %q: %v", ErrInvalid, baseURL, err)
		}
		name = "tei:" + u.Host
	}
	return newHTTP(teiProtocol, baseURL, model, name, opts, defaultTEIMaxBatch)
}

func newHTTP(p protocol, baseURL, model, name string, opts HTTPOptions, maxBatch int) (*HTTP, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.ensureDefaults(maxBatch)
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s base URL %q: want http(s)://host[:port][/path]", ErrInvalid, p.name, baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %s base URL %q has a query or fragment", ErrInvalid, p.name, baseURL)
	}
	u.Path = endpointPath(strings.TrimRight(u.Path, "/"), p)
	u.RawPath = ""
	h := &HTTP{
		proto:    p,
		endpoint: u.String(),
		display:  u.Redacted(),
		model:    model,
		name:     name,
		opts:     opts,
		client:   opts.Client,
	}
	if h.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4
		// Redirects stay on the embedding server's host: the API key must
		// not follow a redirect elsewhere.
		h.client = &http.Client{Transport: t, CheckRedirect: sameHostRedirect}
		h.ownClient = true
	}
	h.dim.Store(int64(opts.Dim))
	return h, nil
}

// endpointPath appends the protocol's endpoint to a base path, unless the
// base already names it.
func endpointPath(base string, p protocol) string {
	if strings.HasSuffix(base, p.suffix) {
		return base
	}
	for _, a := range p.alt {
		if strings.HasSuffix(base, a) {
			return base + strings.TrimPrefix(p.suffix, a)
		}
	}
	return base + p.suffix
}

// Embed prepends the prefix of kind to each text and posts the texts in
// batches of MaxBatch, retrying transient failures. It returns an error if
// any batch fails: a *StatusError for a non-2xx answer, ErrResponse for a
// malformed one, or the context's error once ctx is done (retries stop at
// once).
func (h *HTTP) Embed(ctx context.Context, texts []string, kind Kind) ([][]float32, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if h.closed.Load() {
		return nil, ErrClosed
	}
	prefix := h.opts.PassagePrefix
	if kind == Query {
		prefix = h.opts.QueryPrefix
	}
	in := withPrefix(texts, prefix)
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(in); start += h.opts.MaxBatch {
		batch := in[start:min(start+h.opts.MaxBatch, len(in))]
		vecs, err := h.post(ctx, batch)
		if err != nil {
			return nil, err
		}
		if err := h.check(vecs, len(batch), start); err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	h.stats.calls.Add(1)
	h.stats.texts.Add(int64(len(texts)))
	return out, nil
}

// check validates one batch's vectors and learns the dimension from the
// first response.
func (h *HTTP) check(vecs [][]float32, n, offset int) error {
	if len(vecs) != n {
		return fmt.Errorf("%w: %s POST %s: %d vectors for %d texts", ErrResponse, h.proto.name, h.display, len(vecs), n)
	}
	dim := int(h.dim.Load())
	whose := "the dimension learned from the first response is"
	switch {
	case h.opts.Dim > 0:
		whose = "the configured dimension is"
	case dim == 0:
		dim = len(vecs[0])
		whose = "the first vector's dimension is"
	}
	for i, v := range vecs {
		if len(v) > 0 && len(v) != dim {
			return fmt.Errorf("%w: %s POST %s: text %d: %d-dimensional vector, %s %d: %w",
				ErrResponse, h.proto.name, h.display, offset+i, len(v), whose, dim, ErrVector)
		}
		if err := CheckVector(v, dim); err != nil {
			return fmt.Errorf("%w: %s POST %s: text %d: %w", ErrResponse, h.proto.name, h.display, offset+i, err)
		}
	}
	if !h.dim.CompareAndSwap(0, int64(dim)) {
		if have := int(h.dim.Load()); have != dim { // a concurrent first response
			return fmt.Errorf("%w: %s POST %s: %d-dimensional vectors, %s %d: %w",
				ErrResponse, h.proto.name, h.display, dim, "the dimension learned from the first response is", have, ErrVector)
		}
	}
	return nil
}

// post sends one batch, retrying transient failures with jittered
// exponential backoff or the server's Retry-After.
func (h *HTTP) post(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(h.proto.request(h.model, texts))
	if err != nil {
		return nil, fmt.Errorf("embed: %s: encoding the request: %w", h.proto.name, err)
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			h.stats.retries.Add(1)
		}
		h.stats.requests.Add(1)
		vecs, wait, err := h.once(ctx, body)
		if err == nil {
			return vecs, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("embed: %s POST %s: %w", h.proto.name, h.display, context.Cause(ctx))
		}
		if wait < 0 || attempt >= h.opts.Retries {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		if wait == 0 {
			wait = h.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("%w (not retried: the next try, in %v, is past the context deadline)", err, wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("embed: %s POST %s: %w (while waiting to retry after: %v)", h.proto.name, h.display, context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// backoff is the delay before retry attempt+1: Backoff doubled attempt
// times, at most maxBackoff, jittered to [d/2, d].
func (h *HTTP) backoff(attempt int) time.Duration {
	d := h.opts.Backoff
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// once sends one request. wait is negative when the failure is permanent,
// 0 when it is transient, and the server's Retry-After when it gave one.
func (h *HTTP) once(ctx context.Context, body []byte) (vecs [][]float32, wait time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, h.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, -1, fmt.Errorf("embed: %s POST %s: %w", h.proto.name, h.display, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "quarry-embed")
	if h.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.opts.APIKey)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, 0, h.transportError(ctx, actx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, 0, h.transportError(ctx, actx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{
			Protocol:   h.proto.name,
			Endpoint:   h.display,
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			Message:    errorMessage(data),
			RetryAfter: retryAfter(resp.Header, time.Now()),
		}
		if se.Status == "" {
			se.Status = strconv.Itoa(resp.StatusCode)
		}
		if !se.retryable() {
			return nil, -1, se
		}
		return nil, se.RetryAfter, se
	}
	if len(data) > maxResponseBytes {
		return nil, -1, fmt.Errorf("%w: %s POST %s: body larger than %d MiB", ErrResponse, h.proto.name, h.display, maxResponseBytes>>20)
	}
	vecs, err = h.proto.decode(data)
	if err != nil {
		return nil, -1, fmt.Errorf("%w: %s POST %s: %s: %v", ErrResponse, h.proto.name, h.display, resp.Status, err)
	}
	return vecs, 0, nil
}

// transportError describes a failed exchange: the caller's context, the
// attempt's timeout, or a network error.
func (h *HTTP) transportError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("embed: %s POST %s: no complete response within %v: %w", h.proto.name, h.display, h.opts.Timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is named once, below
	}
	return fmt.Errorf("embed: %s POST %s: %w", h.proto.name, h.display, err)
}

// retryAfter reads Retry-After-Ms (OpenAI, Azure) or Retry-After (seconds
// or an HTTP date), capped at maxRetryAfter; 0 when absent or unreadable.
func retryAfter(hd http.Header, now time.Time) time.Duration {
	var d time.Duration
	if v := hd.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			d = time.Duration(ms * float64(time.Millisecond))
		}
	} else if v := hd.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			d = time.Duration(s * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			d = t.Sub(now)
		}
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// errorMessage extracts a server's error message from a non-2xx body:
// {"error": {"message": ...}} (OpenAI), {"error": ...} (Ollama, TEI),
// {"message": ...}, {"detail": ...}, else the text itself, on one line and
// truncated to maxErrorMessage bytes.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	msg := string(body)
	if json.Unmarshal(body, &v) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
		}
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil && s != "":
			msg = s
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case v.Message != "":
			msg = v.Message
		case len(v.Detail) > 0 && json.Unmarshal(v.Detail, &s) == nil && s != "":
			msg = s
		case len(v.Detail) > 0:
			msg = string(v.Detail)
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxErrorMessage {
		cut := maxErrorMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// Dim is the vector dimension: HTTPOptions.Dim, else what the first
// response had, else 0.
func (h *HTTP) Dim() int { return int(h.dim.Load()) }

// Name is "openai:<model>", "ollama:<model>", "tei:<model>" or
// "tei:<host:port>".
func (h *HTTP) Name() string { return h.name }

// MaxTokens is HTTPOptions.MaxTokens (0: unknown).
func (h *HTTP) MaxTokens() int { return h.opts.MaxTokens }

// Endpoint is the URL the embedder posts to, credentials redacted.
func (h *HTTP) Endpoint() string { return h.display }

// Stats returns the cumulative counters (Calls, Texts, Requests, Retries).
func (h *HTTP) Stats() Stats { return h.stats.snapshot() }

// String describes the embedder for logs.
func (h *HTTP) String() string { return h.name + " via " + h.display }

// Close makes later Embed calls fail with ErrClosed and closes the idle
// connections of the embedder's own client. Calls in flight finish.
func (h *HTTP) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	if h.ownClient {
		h.client.CloseIdleConnections()
	}
	return nil
}

// sameHostRedirect follows at most 5 redirects, and only on the first
// request's scheme, host and port.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("embed: stopped after 5 redirects")
	}
	if f := via[0].URL; req.URL.Scheme != f.Scheme || !strings.EqualFold(req.URL.Host, f.Host) {
		return fmt.Errorf("embed: refusing a redirect from %s to another host %s", f.Host, req.URL.Host)
	}
	return nil
}
