package bm25

import (
	"fmt"
	"math"
)

// Params are the scoring parameters of an index. They are fixed when the
// index is created (New) and stored with it (WriteTo).
type Params struct {
	// K1 controls term-frequency saturation; 0 makes scoring binary.
	// Default 0.9 (Anserini's default, which gives BEIR's published BM25
	// figures).
	K1 float64
	// B controls document-length normalisation, in [0, 1]. Default 0.4.
	B float64
	// TitleBoost weighs title terms against body terms, BM25F style: a
	// title occurrence counts TitleBoost body occurrences, in the term
	// frequency and in the document length. 0 ignores titles. Default 1.
	TitleBoost float64
}

// DefaultParams returns K1 0.9, B 0.4, TitleBoost 1.
func DefaultParams() Params { return Params{K1: 0.9, B: 0.4, TitleBoost: 1} }

// Validate reports the first invalid field.
func (p Params) Validate() error {
	switch {
	case !(p.K1 >= 0) || math.IsInf(p.K1, 0):
		return fmt.Errorf("bm25: K1 must be finite and ≥ 0, got %v", p.K1)
	case !(p.B >= 0 && p.B <= 1):
		return fmt.Errorf("bm25: B must be in [0, 1], got %v", p.B)
	case !(p.TitleBoost >= 0) || math.IsInf(p.TitleBoost, 0):
		return fmt.Errorf("bm25: TitleBoost must be finite and ≥ 0, got %v", p.TitleBoost)
	}
	return nil
}
