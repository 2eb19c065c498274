package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a client. A nil *Options is valid; every field has a default.
type Options struct {
	// HTTPClient is used for requests. Default: a client with no overall timeout
	// (Timeout below bounds each call instead).
	HTTPClient *http.Client
	// Timeout bounds a whole call including streaming. Default 2m.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt. Default 3; -1 disables.
	MaxRetries int
	// Backoff is the base delay, doubled per retry and jittered ±50%. Default 200ms.
	Backoff time.Duration
	// BreakerThreshold is the number of consecutive failed calls that opens the breaker. Default 5.
	BreakerThreshold int
	// BreakerCooldown is how long the breaker stays open. Default 30s.
	BreakerCooldown time.Duration
	// APIKey, when set, is sent as "Authorization: Bearer APIKey".
	APIKey string
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.HTTPClient == nil {
		r.HTTPClient = &http.Client{}
	}
	if r.Timeout <= 0 {
		r.Timeout = 2 * time.Minute
	}
	if r.MaxRetries == 0 {
		r.MaxRetries = 3
	} else if r.MaxRetries < 0 {
		r.MaxRetries = 0
	}
	if r.Backoff <= 0 {
		r.Backoff = 200 * time.Millisecond
	}
	if r.BreakerThreshold <= 0 {
		r.BreakerThreshold = 5
	}
	if r.BreakerCooldown <= 0 {
		r.BreakerCooldown = 30 * time.Second
	}
	return r
}

// breaker is a consecutive-failure circuit breaker.
type breaker struct {
	threshold int
	cooldown  time.Duration
	// mu protects the following fields.
	mu struct {
		sync.Mutex
		fails     int
		openUntil time.Time
	}
}

func (b *breaker) allow(now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.mu.openUntil) {
		return fmt.Errorf("%w: %d consecutive failures, retry after %s", ErrCircuitOpen,
			b.mu.fails, b.mu.openUntil.Sub(now).Round(time.Millisecond))
	}
	return nil
}

func (b *breaker) record(ok bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.mu.fails = 0
		return
	}
	b.mu.fails++
	if b.mu.fails >= b.threshold {
		b.mu.openUntil = now.Add(b.cooldown)
	}
}

// transport posts JSON with retries before the first byte and a breaker.
type transport struct {
	base string
	opts Options
	brk  breaker
}

func newTransport(base string, o *Options) *transport {
	opts := o.withDefaults()
	t := &transport{base: strings.TrimRight(base, "/"), opts: opts}
	t.brk.threshold, t.brk.cooldown = opts.BreakerThreshold, opts.BreakerCooldown
	return t
}

// retryable reports whether a status is worth another attempt.
func retryable(code int) bool { return code == http.StatusTooManyRequests || code >= 500 }

// post sends body and returns a 2xx response whose body the caller must close.
// Retries happen only here, i.e. before any response byte reached the caller.
func (t *transport) post(ctx context.Context, path string, body []byte) (*http.Response, error) {
	if err := t.brk.allow(time.Now()); err != nil {
		return nil, err
	}
	url := t.base + path
	var last error
	for attempt := 0; attempt <= t.opts.MaxRetries; attempt++ {
		if attempt > 0 {
			d := t.opts.Backoff << (attempt - 1)
			d = d/2 + rand.N(d) // jitter: [d/2, 3d/2)
			select {
			case <-ctx.Done():
				t.brk.record(false, time.Now())
				return nil, fmt.Errorf("llm: POST %s: %w (last error: %v)", url, ctx.Err(), last)
			case <-time.After(d):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("llm: POST %s: %w", url, err)
		}
		req.Header.Set("Content-Type", "application/json")
		if t.opts.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+t.opts.APIKey)
		}
		resp, err := t.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				t.brk.record(false, time.Now())
				return nil, fmt.Errorf("llm: POST %s: %w", url, err)
			}
			last = err
			continue
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		if !retryable(resp.StatusCode) {
			// A client error is the caller's fault, not the server's: no breaker count.
			return nil, fmt.Errorf("llm: POST %s: %w", url, last)
		}
	}
	t.brk.record(false, time.Now())
	return nil, fmt.Errorf("%w: POST %s failed after %d attempts: %w", ErrUnavailable, url, t.opts.MaxRetries+1, last)
}

// done records the outcome of a call that got past post.
func (t *transport) done(err error) {
	t.brk.record(err == nil || errors.Is(err, errCallback), time.Now())
}

// errCallback marks errors returned by the caller's stream callback.
var errCallback = errors.New("llm: stream callback")
