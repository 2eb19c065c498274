package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFeedback stores ratings, survives a torn last line (a crash in the
// middle of an append), and exports them as JSON Lines.
func TestFeedback(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Options{FeedbackDir: dir})
	good := map[string]any{
		"collection": "rocks", "question": "How does granite form?", "answer": "From magma [1].", "rating": "down",
		"comment": "too short <script>", "method": "llm", "grounded": true,
		"sources":   []map[string]any{{"doc_id": "granite", "chunk_id": "granite#0", "start": 0, "end": 40, "score": 0.03}},
		"citations": []map[string]any{{"marker": 1, "doc_id": "granite", "chunk_id": "granite#0", "start": 0, "end": 10}},
	}
	r := h.do("POST", "/v1/feedback", good).mustStatus(t, 201)
	if r.str("id") == "" {
		t.Fatalf("no id: %s", r.body)
	}
	// A crash tore a record: the next append must not run into it.
	f, err := os.OpenFile(filepath.Join(dir, feedbackFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"torn","collec`)
	f.Close()
	good["rating"], good["collection"] = "up", "other"
	h.do("POST", "/v1/feedback", good).mustStatus(t, 201)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"collection": "rocks", "question": "q", "rating": "meh"}, "rating"},
		{map[string]any{"collection": "rocks", "question": "q"}, "rating"},
		{map[string]any{"collection": "rocks", "rating": "up"}, "question"},
		{map[string]any{"collection": "../x", "question": "q", "rating": "up"}, "collection"},
		{map[string]any{"collection": "rocks", "question": "q", "rating": "up", "comment": strings.Repeat("x", 5000)}, "comment"},
		{map[string]any{"collection": "rocks", "question": "q", "rating": "up", "sources": []map[string]any{{"doc_id": "a", "chunk_id": "a#0", "start": 5, "end": 1}}}, "sources[0].end"},
	} {
		wantError(t, h.do("POST", "/v1/feedback", c.body), 400, codeInvalid, c.field)
	}

	all := h.do("GET", "/v1/feedback", nil).mustStatus(t, 200)
	if ct := all.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	var recs []feedbackRecord
	sc := bufio.NewScanner(bytes.NewReader(all.body))
	for sc.Scan() {
		var rec feedbackRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 || recs[0].Rating != ratingDown || recs[1].Rating != ratingUp || recs[0].Comment != "too short <script>" ||
		len(recs[0].Citations) != 1 || recs[0].Citations[0].Marker != 1 || recs[0].Question != "How does granite form?" {
		t.Fatalf("exported %+v", recs)
	}
	one := h.do("GET", "/v1/feedback?collection=other", nil).mustStatus(t, 200)
	if n := bytes.Count(one.body, []byte("\n")); n != 1 {
		t.Errorf("collection filter kept %d records", n)
	}
	// Without a directory, feedback is refused plainly.
	off := newHarness(t, Options{})
	wantError(t, off.do("POST", "/v1/feedback", good), 503, codeUnavailable, "")
}

// TestSearchNoRerank: the search debugger's "before reranking" lists ask
// with no_rerank, which the API accepts (a no-op without a reranker).
func TestSearchNoRerank(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("rocks", map[string]any{"id": "g", "text": "Granite forms from magma."})
	r := h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "granite", "no_rerank": true}).mustStatus(t, 200)
	if len(r.list("results")) != 1 {
		t.Fatalf("results %s", r.body)
	}
}
