package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

const (
	sampleVersion = 1
	// Bounds on a Sample, so that a saved window can be read without
	// trusting it.
	maxEmbeddings = 4096
	maxScores     = 1 << 16
	maxDim        = 8192
	// MaxSampleBytes bounds a saved window ReadSample accepts.
	MaxSampleBytes = 256 << 20
)

// ErrInvalid: a Sample that is malformed or out of bounds.
var ErrInvalid = errors.New("drift: invalid sample")

// Counts are the denominators and numerators of a window's rates.
type Counts struct {
	Queries   int64 `json:"queries"`   // searches seen
	Empty     int64 `json:"empty"`     // searches that retrieved nothing
	Answers   int64 `json:"answers"`   // answers generated
	Abstained int64 `json:"abstained"` // answers that abstained
	Grounded  int64 `json:"grounded"`  // answers citing a retrieved source
	Guarded   int64 `json:"guarded"`   // guard checks run
	Flagged   int64 `json:"flagged"`   // guard checks that flagged the input
	Feedback  int64 `json:"feedback"`  // ratings received
	Up        int64 `json:"up"`        // ratings that were thumbs-up
}

// Sample is the saved form of a Window: its reservoirs and counts.
type Sample struct {
	Version    int         `json:"version"`
	Start      time.Time   `json:"start"`
	End        time.Time   `json:"end"`
	Dim        int         `json:"dim"`
	Embeddings [][]float32 `json:"embeddings"`
	Scores     []float64   `json:"scores"`
	Counts     Counts      `json:"counts"`
}

// Validate checks a Sample's shape and bounds: known version, one
// dimension throughout, finite values, counts that add up.
func (s *Sample) Validate() error {
	if s.Version != sampleVersion {
		return fmt.Errorf("%w: version %d (want %d)", ErrInvalid, s.Version, sampleVersion)
	}
	if len(s.Embeddings) > maxEmbeddings {
		return fmt.Errorf("%w: %d embeddings (at most %d)", ErrInvalid, len(s.Embeddings), maxEmbeddings)
	}
	if len(s.Scores) > maxScores {
		return fmt.Errorf("%w: %d scores (at most %d)", ErrInvalid, len(s.Scores), maxScores)
	}
	if s.Dim < 0 || s.Dim > maxDim || (len(s.Embeddings) > 0 && s.Dim == 0) {
		return fmt.Errorf("%w: dim %d", ErrInvalid, s.Dim)
	}
	for i, v := range s.Embeddings {
		if len(v) != s.Dim {
			return fmt.Errorf("%w: embeddings[%d] has %d dimensions, want %d", ErrInvalid, i, len(v), s.Dim)
		}
		if !finiteVec(v) {
			return fmt.Errorf("%w: embeddings[%d] has a NaN or infinite value", ErrInvalid, i)
		}
	}
	for i, x := range s.Scores {
		if !finite(x) {
			return fmt.Errorf("%w: scores[%d] is not finite", ErrInvalid, i)
		}
	}
	c := s.Counts
	for _, p := range []struct {
		name string
		k, n int64
	}{
		{"empty", c.Empty, c.Queries},
		{"abstained", c.Abstained, c.Answers},
		{"grounded", c.Grounded, c.Answers},
		{"flagged", c.Flagged, c.Guarded},
		{"up", c.Up, c.Feedback},
	} {
		if p.k < 0 || p.n < 0 || p.k > p.n {
			return fmt.Errorf("%w: counts.%s = %d of %d", ErrInvalid, p.name, p.k, p.n)
		}
	}
	if int64(len(s.Scores)) > c.Queries-c.Empty || int64(len(s.Embeddings)) > c.Queries {
		return fmt.Errorf("%w: more samples than queries counted", ErrInvalid)
	}
	return nil
}

// WriteSample writes s as JSON.
func WriteSample(w io.Writer, s *Sample) error {
	if err := s.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("drift: write sample: %w", err)
	}
	return nil
}

// ReadSample reads and validates a Sample written by WriteSample. It reads
// at most MaxSampleBytes and rejects unknown fields and trailing data.
func ReadSample(r io.Reader) (*Sample, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSampleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("drift: read sample: %w", err)
	}
	if len(data) > MaxSampleBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSampleBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Sample
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the sample", ErrInvalid)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func finiteVec(v []float32) bool {
	for _, x := range v {
		if !finite(float64(x)) {
			return false
		}
	}
	return true
}
