package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("metricscol", map[string]any{"id": "a", "text": "Marble is metamorphosed limestone."})
	for range 2 {
		h.do("POST", "/v1/collections/metricscol/search", map[string]any{"query": "marble"}).mustStatus(t, http.StatusOK)
	}
	h.do("POST", "/v1/collections/metricscol/search", map[string]any{"query": ""}).mustStatus(t, http.StatusBadRequest)
	h.do("GET", "/v1/collections/metricscol/documents/a/b/c", nil).mustStatus(t, http.StatusNotFound)
	h.do("GET", "/no/such/path", nil).mustStatus(t, http.StatusNotFound)

	want := []string{
		`quarry_http_requests_total{code="200",method="POST",route="/v1/collections/{c}/search"} 2`,
		`quarry_http_requests_total{code="400",method="POST",route="/v1/collections/{c}/search"} 1`,
		`quarry_http_requests_total{code="200",method="POST",route="/v1/collections/{c}/documents"} 1`,
		`quarry_http_requests_total{code="404",method="GET",route="/v1/collections/{c}/documents/{id...}"} 1`,
		`quarry_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`quarry_http_request_duration_seconds_count{method="POST",route="/v1/collections/{c}/search"} 3`,
		`quarry_http_request_duration_seconds_bucket{method="POST",route="/v1/collections/{c}/search",le="+Inf"} 3`,
		`quarry_http_requests_in_flight 1`, // the /metrics request itself
	}
	var text string
	// A request is counted after its response is written, so the last one
	// may lag its client by a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := h.do("GET", "/metrics", nil).mustStatus(t, http.StatusOK)
		text = string(r.body)
		missing := 0
		for _, w := range want {
			if !strings.Contains(text, w+"\n") {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	// Routes are patterns: no raw path (collection name, document id) is a label.
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "quarry_http_") && (strings.Contains(line, "metricscol") || strings.Contains(line, "/no/such")) {
			t.Errorf("a raw path leaked into a label: %s", line)
		}
	}
}

// TestSharedRegistry: two servers on one registry share the route metrics
// instead of panicking on duplicate registration.
func TestSharedRegistry(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	reg := prometheus.NewRegistry()
	a, b := New(eng, Options{Registry: reg}), New(eng, Options{Registry: reg})
	if a.metrics.requests != b.metrics.requests {
		t.Error("the second server did not reuse the registered counter")
	}
}
