package weaviate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// ErrUnavailable wraps errors from a Weaviate server that could not be
// reached or kept failing after the retries.
var ErrUnavailable = errors.New("weaviate: unavailable")

// client is a small REST/GraphQL client with bounded retries. With
// several node URLs (a cluster), a request that cannot reach one node
// moves on to the next.
type client struct {
	bases   []string
	cur     atomic.Int32 // index of the node in use
	apiKey  string
	http    *http.Client
	retries int
	backoff time.Duration
}

func newClient(cfg *Config) *client {
	return &client{bases: splitURLs(cfg.URL), apiKey: cfg.APIKey, http: &http.Client{Timeout: cfg.Timeout}, retries: cfg.Retries, backoff: 100 * time.Millisecond}
}

func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

func (c *client) base() string { return c.bases[int(c.cur.Load())%len(c.bases)] }

// failover moves to the next node URL after base failed (unless another
// request moved already).
func (c *client) failover(base string) {
	if len(c.bases) < 2 {
		return
	}
	i := c.cur.Load()
	if c.bases[int(i)%len(c.bases)] == base {
		c.cur.CompareAndSwap(i, (i+1)%int32(len(c.bases)))
	}
}

// apiError is a non-2xx answer that retrying will not fix.
type apiError struct {
	Status int
	Method string
	Path   string
	Body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("weaviate: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

func isStatus(err error, code int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == code
}

// do sends one request, retrying transport errors, 429 and 5xx with
// exponential backoff. out (when non-nil) receives the decoded JSON body.
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	wait := c.backoff
	var last error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			wait = min(wait*2, 5*time.Second)
		}
		base := c.base()
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.apiKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.apiKey)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = err
			c.failover(base)
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && !permanent(raw)) {
			last = &apiError{resp.StatusCode, method, path, string(raw)}
			continue
		}
		if resp.StatusCode >= 300 {
			return &apiError{resp.StatusCode, method, path, string(raw)}
		}
		if out == nil || len(raw) == 0 {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("weaviate: %s %s: decoding the answer: %v", method, path, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %s %s%s after %d attempts: %v", ErrUnavailable, method, strings.Join(c.bases, ","), path, c.retries+1, last)
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message string `json:"message"`
}

// graphql runs a query and decodes data.Get/Aggregate into out.
func (c *client) graphql(ctx context.Context, query string, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/graphql", map[string]string{"query": query}, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
		}
		msg := strings.Join(msgs, "; ")
		if isTransient(msg) {
			return fmt.Errorf("%w: graphql: %s", ErrUnavailable, msg)
		}
		return fmt.Errorf("weaviate: graphql: %s", msg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}

// isTransient reports whether a GraphQL error message describes a replica
// or node that is down, which a retry may get past.
func isTransient(msg string) bool {
	for _, s := range []string{"cannot achieve consistency", "connection refused", "no such host", "context deadline", "unavailable", "not found in cluster", "broadcast", "resolve node"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// graphqlRetry retries a query whose GraphQL errors are transient (a
// replica going away mid-query), with the client's bounded backoff.
func (c *client) graphqlRetry(ctx context.Context, query string, out any) error {
	wait := c.backoff
	var err error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
		}
		if err = c.graphql(ctx, query, out); err == nil || !errors.Is(err, ErrUnavailable) {
			return err
		}
	}
	return err
}

// ready waits until /v1/.well-known/ready answers 2xx or ctx ends.
func (c *client) ready(ctx context.Context) error {
	base := c.base()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/.well-known/ready", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.failover(base)
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, base, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		c.failover(base)
		return fmt.Errorf("%w: %s: not ready (HTTP %d)", ErrUnavailable, base, resp.StatusCode)
	}
	return nil
}

// permanent reports a 5xx answer that describes a bad request rather than
// a server in trouble (Weaviate answers some validation errors with 500).
func permanent(body []byte) bool {
	s := strings.ToLower(string(body))
	for _, w := range []string{"validat", "invalid", "no object with id", "vector lengths", "dimension"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
