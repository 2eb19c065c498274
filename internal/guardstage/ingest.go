package guardstage

import (
	"context"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/guard"
)

// ScoreIngest scores the chunks of a batch of documents once, at ingest:
// texts are the chunks as embedded for the dense index (title and text),
// vecs their vectors (nil without a dense index), sizes the number of
// chunks of each document in order (instructions split across two
// consecutive chunks of one document are found at their seam, and both
// chunks get the seam's score). The vectors are reused when the
// collection embeds with the detector's encoder, so scoring costs the
// rules and the head; otherwise the detector embeds each chunk itself.
// It returns nil, nil when the chunk policy is off or the detector is
// unavailable (then chunks are scored at query time by the rules).
func (s *Stages) ScoreIngest(ctx context.Context, texts []string, vecs [][]float32, sizes []int) ([]float64, error) {
	if s.cfg.Chunks == guard.ChunkOff || len(texts) == 0 {
		return nil, nil
	}
	d, shared, err := s.detector()
	if err != nil {
		return nil, nil
	}
	var res []guard.Result
	if shared != nil && len(vecs) == len(texts) {
		res, err = d.ScoreVectors(ctx, texts, vecs, embed.Passage)
	} else {
		res, err = d.CheckMany(ctx, texts, embed.Passage)
	}
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(texts))
	for i, r := range res {
		out[i] = r.Score
	}
	k := 0
	for _, n := range sizes {
		if n > 1 {
			seams, err := d.ScoreSeams(ctx, texts[k:k+n])
			if err != nil {
				return nil, err
			}
			for j, v := range seams {
				out[k+j] = max(out[k+j], v)
			}
		}
		k += n
	}
	return out, nil
}
