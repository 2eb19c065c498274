package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: the profile listener refuses any address that is
// not loopback, and on loopback serves a heap profile (gzip-compressed
// protobuf, what go tool pprof reads) until its context ends.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "10.1.2.3:0", "example.com:0", "127.0.0.1"} {
		if a, err := startPprof(context.Background(), addr, io.Discard); err == nil || !strings.Contains(err.Error(), "--pprof-addr") {
			t.Errorf("%s: got %v, %v; want a refusal naming --pprof-addr", addr, a, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := startPprof(ctx, "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String() + "/debug/pprof/heap"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Fatalf("heap profile: HTTP %d, %d bytes starting %x", resp.StatusCode, len(body), body[:min(4, len(body))])
	}
	cancel()
	for range 100 {
		if _, err = http.Get(url); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("the listener still answers after its context ended")
	}
}

// TestServeRefusesPublicPprofAddr: quarry serve stops with one line
// before opening anything when --pprof-addr is not loopback.
func TestServeRefusesPublicPprofAddr(t *testing.T) {
	_, errOut, code := cli(t, t.TempDir(), "serve", "--addr", "127.0.0.1:0", "--pprof-addr", "0.0.0.0:6060")
	if code == 0 || !strings.Contains(errOut, "--pprof-addr 0.0.0.0:6060: want a loopback address") {
		t.Fatalf("serve with a public --pprof-addr: exit %d, %q", code, errOut)
	}
}
