package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/store/weaviate"
)

// weaviateURL returns the Weaviate the test may use: QUARRY_WEAVIATE_URL,
// or a node already running on the default port (make weaviate). Without
// one the test skips, or fails under CI=true.
func weaviateURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("QUARRY_WEAVIATE_URL")
	if url == "" {
		url = "http://127.0.0.1:8089"
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/v1/.well-known/ready")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return url
		}
	}
	msg := fmt.Sprintf("no Weaviate at %s (start one with `eval \"$(make -s weaviate)\"`)", url)
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveProcess starts `quarry serve` on the Weaviate backend with its own
// data directory and returns its base URL.
func serveProcess(t *testing.T, bin, wurl string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--backend", "weaviate", "--weaviate-url", wurl, "--data-dir", t.TempDir(), "--addr", addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("quarry serve %s log:\n%s", addr, logs.String())
		}
	})
	base := "http://" + addr
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return base
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("quarry serve on %s did not start:\n%s", addr, logs.String())
	return ""
}

func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type searchOut struct {
	Results []struct {
		DocID string `json:"doc_id"`
		Text  string `json:"text"`
	} `json:"results"`
}

// TestTwoServersShareWeaviate runs two stateless `quarry serve` processes
// on one Weaviate: a collection created, updated and deleted through one is
// seen through the other.
func TestTwoServersShareWeaviate(t *testing.T) {
	wurl := weaviateURL(t)
	bin := filepath.Join(t.TempDir(), "quarry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	a, b := serveProcess(t, bin, wurl), serveProcess(t, bin, wurl)
	var rnd [4]byte
	rand.Read(rnd[:])
	col := "twoproc-" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() {
		if wb, err := weaviate.Open(context.Background(), col, weaviate.Config{URL: wurl}); err == nil {
			wb.Drop(context.Background())
			wb.Close()
		}
	})

	put := func(base, text string) {
		t.Helper()
		doc := map[string]any{"documents": []map[string]any{{"id": "d1", "title": "Stone", "text": text}}}
		if code := call(t, http.MethodPost, base+"/v1/collections/"+col+"/documents", doc, nil); code >= 300 {
			t.Fatalf("upsert through %s: HTTP %d", base, code)
		}
	}
	// waitFor polls a search through base until it returns want ("" =
	// no result), for at most 10 s (the generation poll is 1 s).
	waitFor := func(base, query, want string) {
		t.Helper()
		var last searchOut
		for i := 0; i < 100; i++ {
			last = searchOut{}
			call(t, http.MethodPost, base+"/v1/collections/"+col+"/search", map[string]any{"query": query, "mode": "bm25"}, &last)
			if (want == "" && len(last.Results) == 0) || (len(last.Results) > 0 && strings.Contains(last.Results[0].Text, want)) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("search %q through %s: %+v, want %q", query, base, last, want)
	}

	// A creates the collection with a non-default setting; B, which has
	// never seen it, must take that configuration from Weaviate.
	if code := call(t, http.MethodPut, a+"/v1/collections/"+col, map[string]any{"chunking": map[string]any{"size": 64}}, nil); code >= 300 {
		t.Fatalf("create collection through the first server: HTTP %d", code)
	}
	put(a, "granite is quarried in blocks, version one")
	waitFor(b, "granite", "version one")
	put(b, "marble replaced the granite, version two")
	waitFor(a, "marble", "version two")
	var info struct {
		Config struct {
			Chunking struct {
				Size int `json:"size"`
			} `json:"chunking"`
		} `json:"config"`
	}
	if code := call(t, http.MethodGet, b+"/v1/collections/"+col, nil, &info); code != 200 || info.Config.Chunking.Size != 64 {
		t.Fatalf("collection config through the second server: HTTP %d, chunking size %d, want 64", code, info.Config.Chunking.Size)
	}
	var doc struct {
		Text    string `json:"text"`
		Version int    `json:"version"`
	}
	if code := call(t, http.MethodGet, b+"/v1/collections/"+col+"/documents/d1", nil, &doc); code != 200 || doc.Version != 2 || !strings.Contains(doc.Text, "version two") {
		t.Fatalf("GET through the second server: HTTP %d %+v", code, doc)
	}
	if code := call(t, http.MethodDelete, b+"/v1/collections/"+col+"/documents/d1", nil, nil); code >= 300 {
		t.Fatalf("delete through the second server: HTTP %d", code)
	}
	waitFor(a, "marble", "")
}
