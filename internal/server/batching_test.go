package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// TestQueryBatchingBackPressure: end to end, concurrent hybrid searches
// go through the engine's query-embedding batcher (a real model); with a
// queue of one, a burst is partly refused at once with 503 unavailable
// and Retry-After (the batcher's hint, rounded up to seconds), never a
// 5xx of another kind, and the searches it serves are correct.
func TestQueryBatchingBackPressure(t *testing.T) {
	h := newHarnessEngine(t, Options{}, &quarry.Options{QueryBatching: quarry.QueryBatching{MaxQueue: 1, Window: 20 * time.Millisecond, RetryAfter: 1500 * time.Millisecond}})
	h.do("PUT", "/v1/collections/rocks", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	seedRocks(t, h)
	h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "warm up", "mode": "dense"}).mustStatus(t, http.StatusOK)
	const n = 48
	type result struct {
		status     int
		retryAfter string
		body       []byte
	}
	res := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			b, _ := json.Marshal(map[string]any{"query": "how does granite form " + string(rune('a'+i%26)), "mode": "hybrid"})
			<-start
			resp, err := http.Post(h.ts.URL+"/v1/collections/rocks/search", "application/json", bytes.NewReader(b))
			if err != nil {
				res[i] = result{status: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			res[i] = result{resp.StatusCode, resp.Header.Get("Retry-After"), body}
		})
	}
	close(start)
	wg.Wait()
	var ok, refused int
	for _, r := range res {
		switch r.status {
		case http.StatusOK:
			ok++
			var sr struct {
				Results []struct {
					DocID string `json:"doc_id"`
				} `json:"results"`
			}
			if err := json.Unmarshal(r.body, &sr); err != nil || len(sr.Results) == 0 || sr.Results[0].DocID != "granite" {
				t.Errorf("served search: %s", r.body)
			}
		case http.StatusServiceUnavailable:
			refused++
			var eb errorBody
			if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error.Code != codeUnavailable || r.retryAfter != "2" {
				t.Errorf("refusal: Retry-After %q, %s", r.retryAfter, r.body)
			}
		default:
			t.Errorf("status %d: %s", r.status, r.body)
		}
	}
	t.Logf("%d served, %d refused", ok, refused)
	if ok == 0 || refused == 0 {
		t.Fatalf("%d served and %d refused: want both with a queue of one", ok, refused)
	}
}
