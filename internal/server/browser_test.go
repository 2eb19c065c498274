package server

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// chromium finds a headless browser: $QUARRY_CHROMIUM, else Debian's
// chromium. In CI (CI=true) a missing browser fails the test, since `make
// test` installs it; elsewhere the test is skipped with a message.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("QUARRY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium found: `make test` installs Debian's chromium (scripts/deps.sh)")
	}
	t.Skip("no chromium found (set QUARRY_CHROMIUM or run scripts/deps.sh); skipping the browser test")
	return ""
}

// TestWebUIInRealBrowser loads the web page in headless Chromium with a
// question in its URL, lets the page's JavaScript call the API, and checks
// the rendered DOM: the answer quotes the source, its citation marker is a
// button, and the cited passage is highlighted in the sources. The page
// streams the answer (Server-Sent Events over fetch).
func TestWebUIInRealBrowser(t *testing.T) {
	bin := chromium(t)
	h := newHarness(t, Options{})
	col, err := h.eng.EnsureCollection(context.Background(), "rocks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(context.Background(), []quarry.Document{
		{ID: "granite", Title: "Granite", Text: "Über Gesteine.\n\nGranite forms from slowly cooling magma deep underground. It is rich in quartz."},
		{ID: "rivers", Title: "Rivers", Text: "Rivers carve valleys over millions of years."},
	}, nil); err != nil {
		t.Fatal(err)
	}
	u := h.ts.URL + "/?" + url.Values{"collection": {"rocks"}, "q": {"How does granite form?"}, "ask": {"1"}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", u)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	for _, want := range []string{
		"Granite forms from slowly cooling magma deep underground.", // the answer quotes the source
		`class="cite"`, // markers are buttons
		`<mark id="cite-1" data-marker="1">Granite forms from slowly cooling magma deep underground.</mark>`, // exact highlight, after a non-ASCII prefix
		"extractive",
	} {
		if !strings.Contains(dom, want) {
			t.Fatalf("rendered page lacks %q; DOM:\n%s", want, dom)
		}
	}
	if strings.Contains(dom, `id="error" role="alert">`) && !strings.Contains(dom, `id="error" role="alert" hidden`) {
		t.Fatalf("the page shows an error; DOM:\n%s", dom)
	}
	// The page asked with "stream": true and read the events.
	metrics := string(h.do("GET", "/metrics", nil).mustStatus(t, 200).body)
	if !strings.Contains(metrics, `quarry_http_ttft_seconds_count{route="/v1/collections/{c}/ask"} 1`) {
		t.Error("the page did not stream its answer (no time to first token recorded for ask)")
	}
}
