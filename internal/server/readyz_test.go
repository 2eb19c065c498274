package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/store/weaviate"
)

// tcpProxy forwards connections to a real server until cut, then refuses
// and drops them: a network partition between Quarry and Weaviate, which a
// test cannot otherwise provoke without stopping the shared node.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReadyzProbesWeaviate: /readyz answers 200 while the Weaviate behind a
// collection answers, and 503 naming the collection once the network path
// to it is cut, within the probe's time bound.
func TestReadyzProbesWeaviate(t *testing.T) {
	wurl := weaviateURL(t)
	proxy := newTCPProxy(t, strings.TrimPrefix(wurl, "http://"))
	purl := "http://" + proxy.ln.Addr().String()
	col := fmt.Sprintf("srvready%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if wb, err := weaviate.Open(context.Background(), col, weaviate.Config{URL: wurl}); err == nil {
			if err := wb.Drop(context.Background()); err != nil {
				t.Logf("dropping the Weaviate class of %s: %v", col, err)
			}
			wb.Close()
		}
	})
	eng, err := quarry.Open(t.TempDir(), &quarry.Options{Backend: quarry.BackendWeaviate, WeaviateURL: purl})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, _, err := eng.CreateCollection(context.Background(), col, &quarry.CollectionConfig{}); err != nil {
		t.Fatal(err)
	}
	handler := New(eng, Options{}).Handler()
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("/readyz with Weaviate up = %d %s, want 200", code, body)
	}
	proxy.cut()
	start := time.Now()
	code, body := get()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, col) {
		t.Fatalf("/readyz with Weaviate cut off = %d %s, want 503 naming collection %s", code, body, col)
	}
	if took := time.Since(start); took > readyTimeout+time.Second {
		t.Errorf("/readyz took %v with Weaviate unreachable, want ≤ %v", took, readyTimeout+time.Second)
	}
}
