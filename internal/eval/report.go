package eval

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrCutoffs is returned by NewRetrievalReport when a Report was computed at
// cutoffs other than the ones RetrievalReport's keys name.
var ErrCutoffs = errors.New("eval: report cutoffs are not nDCG@10, Recall@100, MRR@10, MAP@100")

// RetrievalReport is the JSON contract of `quarry eval retrieval --json`.
// The keys are fixed; add fields only together with every consumer
// (bench/bm25_peers/peers.py reads them).
type RetrievalReport struct {
	Dataset      string  `json:"dataset"`
	Split        string  `json:"split"`
	Mode         string  `json:"mode"`
	Queries      int     `json:"queries"`
	NDCG10       float64 `json:"ndcg@10"`
	Recall100    float64 `json:"recall@100"`
	MRR10        float64 `json:"mrr@10"`
	MAP100       float64 `json:"map@100"`
	IndexSeconds float64 `json:"index_seconds"`
	QueryP50Ms   float64 `json:"query_p50_ms"`
	QueryP99Ms   float64 `json:"query_p99_ms"`
	QPS          float64 `json:"qps"`
}

// NewRetrievalReport assembles the CLI report from an Evaluate result
// computed at the default cutoffs, the index build time and the query
// latencies. It fails with ErrCutoffs if r used other cutoffs, since the
// JSON keys name them.
func NewRetrievalReport(dataset, split, mode string, r Report, index time.Duration, lat Latency) (RetrievalReport, error) {
	o := r.Options
	if o.NDCGCutoff != 10 || o.RecallCutoff != 100 || o.MRRCutoff != 10 || o.MAPCutoff != 100 {
		return RetrievalReport{}, fmt.Errorf("eval: new retrieval report: %w (got nDCG@%d, Recall@%d, MRR@%d, MAP@%d)",
			ErrCutoffs, o.NDCGCutoff, o.RecallCutoff, o.MRRCutoff, o.MAPCutoff)
	}
	return RetrievalReport{
		Dataset:      dataset,
		Split:        split,
		Mode:         mode,
		Queries:      len(r.Queries),
		NDCG10:       r.Mean.NDCG,
		Recall100:    r.Mean.Recall,
		MRR10:        r.Mean.MRR,
		MAP100:       r.Mean.MAP,
		IndexSeconds: index.Seconds(),
		QueryP50Ms:   ms(lat.P50),
		QueryP99Ms:   ms(lat.P99),
		QPS:          lat.QPS,
	}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Text renders the report as a small aligned table for people.
func (r RetrievalReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "retrieval eval: %s (%s), mode %s, %d queries\n", r.Dataset, r.Split, r.Mode, r.Queries)
	rows := []struct{ name, value string }{
		{"nDCG@10", fmt.Sprintf("%.4f", r.NDCG10)},
		{"Recall@100", fmt.Sprintf("%.4f", r.Recall100)},
		{"MRR@10", fmt.Sprintf("%.4f", r.MRR10)},
		{"MAP@100", fmt.Sprintf("%.4f", r.MAP100)},
		{"index", fmt.Sprintf("%.3f s", r.IndexSeconds)},
		{"query p50", fmt.Sprintf("%.3f ms", r.QueryP50Ms)},
		{"query p99", fmt.Sprintf("%.3f ms", r.QueryP99Ms)},
		{"QPS", fmt.Sprintf("%.1f", r.QPS)},
	}
	for _, row := range rows {
		fmt.Fprintf(&b, "  %-11s %s\n", row.name, row.value)
	}
	return b.String()
}
