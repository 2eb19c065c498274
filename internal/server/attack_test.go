package server

// The attack figures of the security issue, measured against a real
// listener: bodies that declare far more than they send, slow bodies, and
// the cost of authentication.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
)

// serveReal serves srv on a loopback listener until the test ends.
func serveReal(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// rssBytes is the process's resident set size.
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestAttackDeclaredBodies: 8 connections declaring 100 MB and 8 declaring
// 30 MB (under the 32 MiB limit), each sending "{" and waiting, do not
// grow the process: the body buffer follows what arrives.
func TestAttackDeclaredBodies(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := New(eng, Options{})
	addr := serveReal(t, srv)
	runtime.GC()
	idle := rssBytes(t)
	var conns []net.Conn
	for i := 0; i < 16; i++ {
		declared := 100 << 20
		if i%2 == 1 {
			declared = 30 << 20
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/collections/c/documents HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", declared)
	}
	time.Sleep(500 * time.Millisecond)
	peak := rssBytes(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, c := range conns {
		c.Close()
	}
	grew := peak - idle
	t.Logf("RSS idle %d MB, under 16 declared bodies (8x100 MB, 8x30 MB) %d MB (+%d MB); heap in use %d MB",
		idle>>20, peak>>20, grew>>20, ms.HeapInuse>>20)
	if grew > 64<<20 {
		t.Errorf("RSS grew by %d MB, want < 64 MB", grew>>20)
	}
}

// TestAttackSlowBodies: 1,000 connections that send their headers and one
// byte of body, then stall, hold no request slot; a client searching at
// the same time keeps a p99 under 50 ms.
func TestAttackSlowBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := New(eng, Options{})
	addr := serveReal(t, srv)
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	post := func(path, body string) (*http.Response, error) {
		return client.Post(base+path, "application/json", strings.NewReader(body))
	}
	res, err := post("/v1/collections/c/documents", `{"id":"g","text":"Granite forms from slowly cooling magma."}`)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("seed: %v %v", res, err)
	}
	res.Body.Close()
	const slow = 1000
	conns := make([]net.Conn, 0, slow)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < slow; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/collections/c/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	}
	time.Sleep(200 * time.Millisecond)
	var lat []time.Duration
	for i := 0; i < 300; i++ {
		start := time.Now()
		res, err := post("/v1/collections/c/search", `{"query":"granite"}`)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("search during the attack: %d", res.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("with %d slow-body connections open: search p50 %v, p99 %v (%d searches)", slow, p50, p99, len(lat))
	if p99 > 50*time.Millisecond {
		t.Errorf("p99 %v, want < 50ms", p99)
	}
}

// TestAttackConnectionCap: past MaxConns, a connection is answered 503
// JSON with Retry-After and closed.
func TestAttackConnectionCap(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	addr := serveReal(t, New(eng, Options{MaxConns: 2}))
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, _ := net.Dial("tcp", addr)
		held = append(held, c)
	}
	time.Sleep(50 * time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var buf bytes.Buffer
	buf.ReadFrom(c)
	c.Close()
	for _, h := range held {
		h.Close()
	}
	if !strings.HasPrefix(buf.String(), "HTTP/1.1 503") || !strings.Contains(buf.String(), "Retry-After: 1") || !strings.Contains(buf.String(), `"code":"unavailable"`) {
		t.Fatalf("over the cap: %q", buf.String())
	}
}

// TestConcurrencyLimit: past MaxConcurrent, a request is answered 503
// with Retry-After at once instead of queueing.
func TestConcurrencyLimit(t *testing.T) {
	h := newHarness(t, Options{MaxConcurrent: 1})
	h.srv.guard.slots <- struct{}{} // one request in flight
	r := h.do("GET", "/v1/collections", nil)
	wantError(t, r, 503, codeUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	r = h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "a", "text": "x"})
	wantError(t, r, 503, codeUnavailable, "")
	h.do("GET", "/healthz", nil).mustStatus(t, 200) // probes are not queued
	<-h.srv.guard.slots
	h.do("GET", "/v1/collections", nil).mustStatus(t, 200)
}

// TestAuthOverhead measures what authentication adds to a search: the
// same search through the handler (no network) with and without keys,
// interleaved, p50 of each.
func TestAuthOverhead(t *testing.T) {
	open := newHarness(t, Options{})
	st, _ := auth.Open(t.TempDir())
	tok := mustKey(t, st, auth.Spec{Role: auth.RoleRead})
	keyed := newHarness(t, Options{Keys: st})
	keyed.header = http.Header{"Authorization": {"Bearer " + mustKey(t, st, auth.Spec{Role: auth.RoleAdmin})}}
	for _, h := range []*harness{open, keyed} {
		h.upsert("c", map[string]any{"id": "g", "text": "Granite forms from slowly cooling magma."})
	}
	run := func(h *harness, key string) time.Duration {
		req := httptest.NewRequest("POST", "http://localhost/v1/collections/c/search", strings.NewReader(`{"query":"granite"}`))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		start := time.Now()
		h.srv.ServeHTTP(w, req)
		d := time.Since(start)
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		return d
	}
	var a, b []time.Duration
	for i := 0; i < 3000; i++ {
		a = append(a, run(open, ""))
		b = append(b, run(keyed, tok))
	}
	slices.Sort(a)
	slices.Sort(b)
	pa, pb := a[len(a)/2], b[len(b)/2]
	t.Logf("search p50 without keys %v, with a key %v: auth adds %v", pa, pb, pb-pa)
	if pb-pa > 50*time.Microsecond {
		t.Errorf("auth adds %v to a search's p50, want < 0.05 ms", pb-pa)
	}
}

// BenchmarkSearchAuth is a search through the handler with an API key;
// compare with BenchmarkSearchOpen.
func BenchmarkSearchAuth(b *testing.B) { benchSearch(b, true) }

// BenchmarkSearchOpen is the same search on a server without keys.
func BenchmarkSearchOpen(b *testing.B) { benchSearch(b, false) }

func benchSearch(b *testing.B, withKey bool) {
	eng, err := quarry.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	col, _ := eng.EnsureCollection(context.Background(), "c")
	col.Upsert(context.Background(), []quarry.Document{{ID: "g", Text: "Granite forms from slowly cooling magma."}}, nil)
	opts := Options{}
	tok := ""
	if withKey {
		st, _ := auth.Open(b.TempDir())
		_, tok, _ = st.Create(auth.Spec{Role: auth.RoleRead})
		opts.Keys = st
	}
	srv := New(eng, opts)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "http://localhost/v1/collections/c/search", strings.NewReader(`{"query":"granite"}`))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
