package weaviate

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

// TestUnreachableFailsBounded: a server that is not there is retried a
// bounded number of times, then reported as unavailable.
func TestUnreachableFailsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	_, err = Open(context.Background(), "x", Config{URL: "http://" + addr, Retries: 3})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open on a closed port = %v, want ErrUnavailable naming %s", err, addr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("gave up after %v, want a bounded retry", d)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {URL: "127.0.0.1:8089"}, {URL: "http://x", Consistency: "MOST"}} {
		if _, err := Open(context.Background(), "x", cfg); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("Open(%+v) = %v, want a configuration error", cfg, err)
		}
	}
}

// TestSchemaDrift: a class that exists with other settings is an error
// naming the difference, not silently used.
func TestSchemaDrift(t *testing.T) {
	url := needWeaviate(t)
	b := openTest(t, url, Config{})
	name := b.name
	b.Close()
	// Change the terms property's tokenization behind Quarry's back: drop
	// the chunk class and recreate it differently.
	c := newClient(&Config{URL: url, Timeout: 30 * time.Second, Retries: 2})
	ctx := context.Background()
	if err := c.do(ctx, http.MethodDelete, "/v1/schema/"+chunkClass(name), nil, nil); err != nil {
		t.Fatal(err)
	}
	props := chunkProps()
	for i := range props {
		if props[i].Name == "terms" {
			props[i].Tokenization = "word"
		}
	}
	bad := (&Backend{name: name, cfg: Config{K1: 1, B: 0.5, Replication: 1, Ef: -1}}).classDef(chunkClass(name), props, true)
	if err := c.do(ctx, http.MethodPost, "/v1/schema", bad, nil); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, name, Config{URL: url})
	if err == nil || !strings.Contains(err.Error(), `property "terms" has tokenization "word"`) {
		t.Fatalf("Open on a drifted class = %v, want an error naming the terms tokenization", err)
	}
	bad.VectorIndexConfig["distance"] = "cosine"
	c.do(ctx, http.MethodDelete, "/v1/schema/"+chunkClass(name), nil, nil)
	if err := c.do(ctx, http.MethodPost, "/v1/schema", bad, nil); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, name, Config{URL: url})
	if err == nil || !strings.Contains(err.Error(), `vector distance is "cosine"`) {
		t.Fatalf("Open on a class with cosine distance = %v, want an error naming the distance", err)
	}
}

// TestRejectedDocumentIsReported: a document Weaviate itself rejects (its
// vectors have another dimension than the class's, written by a process
// that had not seen the first write) fails the Upsert naming it, and is
// not committed.
func TestRejectedDocumentIsReported(t *testing.T) {
	url := needWeaviate(t)
	a := openTest(t, url, Config{PollInterval: -1})
	b, err := Open(context.Background(), a.name, Config{URL: url, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := a.Upsert(ctx, []store.DocChunks{storetest.Doc("first", storetest.E(0, 0), "four dims")}); err != nil {
		t.Fatal(err)
	}
	// b has not polled: it believes the dimension is not fixed yet.
	err = b.Upsert(ctx, []store.DocChunks{storetest.Doc("odd", []float32{1, 0, 0}, "three dims", "still three")})
	if err == nil || !strings.Contains(err.Error(), `"odd"`) {
		t.Fatalf("Upsert of a rejected document = %v, want an error naming it", err)
	}
	if _, err := a.Get(ctx, "odd"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rejected document committed: Get = %v", err)
	}
	if vs, _ := a.Versions(ctx, []string{"odd"}); len(vs) != 0 {
		t.Fatalf("rejected document has a version: %v", vs)
	}
}

// TestGenerationSharedAcrossProcesses: a write through one backend moves
// the generation another one (another Quarry process) reports.
func TestGenerationSharedAcrossProcesses(t *testing.T) {
	url := needWeaviate(t)
	a := openTest(t, url, Config{})
	b, err := Open(context.Background(), a.name, Config{URL: url, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	g := b.Generation()
	if err := a.Upsert(context.Background(), []store.DocChunks{storetest.Doc("x", nil, "hello")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Generation() <= g {
		if time.Now().After(deadline) {
			t.Fatalf("generation of the second backend still %d after a write through the first", b.Generation())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
