package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// startServe runs Serve on a loopback listener and returns its address and
// the channel its result arrives on.
func startServe(t *testing.T, s *Server, ctx context.Context) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), done
}

// slowBatch starts a POST of a batch of n documents whose body is written
// by the caller through the returned pipe; the response arrives on the
// returned channel.
func slowBatch(t *testing.T, client *http.Client, addr string) (*io.PipeWriter, <-chan *http.Response, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", "http://"+addr+"/v1/collections/big/documents", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resc, errc := make(chan *http.Response, 1), make(chan error, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			errc <- err
			return
		}
		resc <- res
	}()
	return pw, resc, errc
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func batchDocs(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"doc-%d","text":"Document %d is about sediment layer %d and the rocks around it."}`, i, i, i)
	}
	return b.String()
}

// TestGracefulShutdown cancels the serving context while a large batch is
// in flight (its body half sent): the server stops accepting connections
// and reports not ready, the batch completes and is acknowledged, and only
// then does Serve return, with nil.
func TestGracefulShutdown(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := New(eng, Options{ShutdownTimeout: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, s, ctx)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	const n = 400
	pw, resc, errc := slowBatch(t, client, addr)
	if _, err := io.WriteString(pw, `{"documents":[`+batchDocs(0, n/2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the batch to be in flight", func() bool { return s.inFlight.Load() == 1 })

	cancel()
	waitFor(t, "shutdown to begin", s.draining.Load)
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}

	if _, err := io.WriteString(pw, batchDocs(n/2, n)+`]}`); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var res *http.Response
	select {
	case res = <-resc:
	case err := <-errc:
		t.Fatalf("in-flight request failed during shutdown: %v", err)
	}
	defer res.Body.Close()
	var body upsertResponse
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK || len(body.Results) != n {
		t.Fatalf("in-flight batch: status %d, %d results, %v; want 200 and %d", res.StatusCode, len(body.Results), err, n)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after a graceful shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
	col, err := eng.Collection(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := col.Stats(context.Background()); err != nil || st.Documents != n {
		t.Errorf("after shutdown: %d documents (%v), want %d", st.Documents, err, n)
	}
}

// TestShutdownTimeout: a request that does not finish within
// ShutdownTimeout is cut off and Serve reports the deadline.
func TestShutdownTimeout(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := New(eng, Options{ShutdownTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, s, ctx)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	pw, resc, errc := slowBatch(t, client, addr)
	defer pw.Close()
	if _, err := io.WriteString(pw, `{"documents":[`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the request to be in flight", func() bool { return s.inFlight.Load() == 1 })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want a deadline error", err)
		}
		if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
			t.Errorf("Serve returned after %v, want about the 200ms timeout", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
	pw.CloseWithError(errors.New("test: abandoned"))
	select {
	case res := <-resc:
		res.Body.Close()
	case <-errc: // the connection was cut: expected
	case <-time.After(10 * time.Second):
		t.Fatal("the abandoned request never ended")
	}
	waitFor(t, "the handler to return", func() bool { return s.inFlight.Load() == 0 })
}

func TestListenAndServeBadAddress(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := New(eng, Options{}).ListenAndServe(context.Background(), "256.0.0.1:bad"); err == nil {
		t.Fatal("ListenAndServe on a bad address succeeded")
	}
}
