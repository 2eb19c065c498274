package guard

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// HeadVersion is the version of the head file format this package reads.
const HeadVersion = 1

// Head is the trained classifier on top of the encoder: the input is the
// text's embedding followed by the rule features, standardised with Mean
// and Scale; with Hidden > 0 a ReLU layer of Hidden units comes first,
// then a logistic output.
//
// The file is JSON (head.json); its SHA-256 is kept beside it
// (head.json.sha256) and checked by LoadHead.
type Head struct {
	Version   int       `json:"version"`
	Encoder   string    `json:"encoder"`  // embedder Name the head was trained on
	Dim       int       `json:"dim"`      // embedding dimension
	Features  int       `json:"features"` // rule features after the embedding
	Hidden    int       `json:"hidden"`   // 0: a linear head
	Mean      []float32 `json:"mean"`     // Dim+Features
	Scale     []float32 `json:"scale"`    // Dim+Features (1/std)
	W1        []float32 `json:"w1,omitempty"`
	B1        []float32 `json:"b1,omitempty"`
	W2        []float32 `json:"w2"` // Hidden, or Dim+Features when linear
	B2        float32   `json:"b2"`
	Threshold float64   `json:"threshold"` // score ≥ Threshold is an injection
	// MaxTokens is the encoder truncation the head was trained with;
	// OpenLocal opens the encoder with it.
	MaxTokens int `json:"max_tokens"`
	// Trained records how the head was made (command, data, seed).
	Trained string `json:"trained"`
}

//go:embed model/head.json
var headJSON []byte

//go:embed model/head.json.sha256
var headSum string

// ErrHead: the head file is missing, corrupt or does not fit the encoder.
var ErrHead = errors.New("guard: bad classifier head")

// DefaultHead returns the head shipped in the binary, after checking its
// checksum.
func DefaultHead() (*Head, error) { return LoadHead(headJSON, headSum) }

// LoadHead decodes a head file and checks it against sum (the hex SHA-256
// of the file, as written by Checksum; "" skips the check).
func LoadHead(b []byte, sum string) (*Head, error) {
	if sum = strings.TrimSpace(sum); sum != "" {
		if f := strings.Fields(sum); len(f) > 0 {
			sum = f[0]
		}
		if got := Checksum(b); got != sum {
			return nil, fmt.Errorf("%w: sha256 %s, want %s", ErrHead, got, sum)
		}
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHead, err)
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return &h, nil
}

// Checksum is the hex SHA-256 of a head file.
func Checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (h *Head) validate() error {
	in := h.Dim + h.Features
	switch {
	case h.Version != HeadVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrHead, h.Version, HeadVersion)
	case h.Dim <= 0 || h.Features != numFeatures:
		return fmt.Errorf("%w: dim %d, features %d (want %d)", ErrHead, h.Dim, h.Features, numFeatures)
	case len(h.Mean) != in || len(h.Scale) != in:
		return fmt.Errorf("%w: mean/scale length", ErrHead)
	case h.Hidden < 0:
		return fmt.Errorf("%w: hidden %d", ErrHead, h.Hidden)
	case h.Hidden == 0 && len(h.W2) != in:
		return fmt.Errorf("%w: linear weights length %d, want %d", ErrHead, len(h.W2), in)
	case h.Hidden > 0 && (len(h.W1) != h.Hidden*in || len(h.B1) != h.Hidden || len(h.W2) != h.Hidden):
		return fmt.Errorf("%w: hidden layer shapes", ErrHead)
	case h.MaxTokens < 0:
		return fmt.Errorf("%w: max_tokens %d", ErrHead, h.MaxTokens)
	case !(h.Threshold > 0 && h.Threshold < 1):
		return fmt.Errorf("%w: threshold %v", ErrHead, h.Threshold)
	}
	for _, s := range [][]float32{h.Mean, h.Scale, h.W1, h.B1, h.W2, {h.B2}} {
		for _, x := range s {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: non-finite weight", ErrHead)
			}
		}
	}
	return nil
}

// Marshal encodes the head as its file (compact JSON, float32 values in
// their shortest form).
func (h *Head) Marshal() ([]byte, error) { return json.Marshal(h) }

// input builds the standardised input vector from an embedding and the
// rule features.
func (h *Head) input(vec []float32, f [numFeatures]float32, dst []float32) []float32 {
	dst = dst[:0]
	for i, x := range vec {
		dst = append(dst, (x-h.Mean[i])*h.Scale[i])
	}
	for i, x := range f {
		j := h.Dim + i
		dst = append(dst, (x-h.Mean[j])*h.Scale[j])
	}
	return dst
}

// logit is the head's output before the sigmoid.
func (h *Head) logit(x []float32) float64 {
	if h.Hidden == 0 {
		return float64(dot(h.W2, x) + h.B2)
	}
	in := len(x)
	var z float32 = h.B2
	for j := 0; j < h.Hidden; j++ {
		a := dot(h.W1[j*in:(j+1)*in], x) + h.B1[j]
		if a > 0 {
			z += h.W2[j] * a
		}
	}
	return float64(z)
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
