package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/quarry-rag/quarry"
)

// Limits of the decoding parameters, the same as the LLM client's (a
// request the server accepts is never rejected later by the client).
const (
	maxMaxTokens = 32768
	maxStop      = 4
)

// decodingIn are the language model's decoding parameters, shared by the
// ask and chat completion routes. Absent fields keep the model's defaults.
type decodingIn struct {
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	TopK          *int     `json:"top_k"`
	Seed          *int64   `json:"seed"`
	MaxTokens     *int     `json:"max_tokens"`
	Stop          stopIn   `json:"stop"`
	RepeatPenalty *float64 `json:"repeat_penalty"`
}

// validate checks the ranges; errors name the field.
func (d *decodingIn) validate() error {
	if v := d.Temperature; v != nil && (*v < 0 || *v > 2) {
		return invalid("temperature", "must be between 0 and 2, got %v", *v)
	}
	if v := d.TopP; v != nil && (*v <= 0 || *v > 1) {
		return invalid("top_p", "must be greater than 0 and at most 1, got %v", *v)
	}
	if v := d.TopK; v != nil && *v < 0 {
		return invalid("top_k", "must be 0 or more, got %d", *v)
	}
	if v := d.MaxTokens; v != nil && (*v < 1 || *v > maxMaxTokens) {
		return invalid("max_tokens", "must be between 1 and %d, got %d", maxMaxTokens, *v)
	}
	if len(d.Stop) > maxStop {
		return invalid("stop", "has %d sequences, at most %d are allowed", len(d.Stop), maxStop)
	}
	for i, s := range d.Stop {
		if s == "" {
			return invalid(fmt.Sprintf("stop[%d]", i), "is empty")
		}
	}
	if v := d.RepeatPenalty; v != nil && *v <= 0 {
		return invalid("repeat_penalty", "must be greater than 0, got %v", *v)
	}
	return nil
}

// set reports whether any parameter was given.
func (d *decodingIn) set() bool {
	return d.Temperature != nil || d.TopP != nil || d.TopK != nil || d.Seed != nil ||
		d.MaxTokens != nil || d.Stop != nil || d.RepeatPenalty != nil
}

// stopIn is "stop": one string or an array of strings, as OpenAI accepts.
type stopIn []string

func (s *stopIn) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return invalid("stop", "must be a string or an array of strings")
		}
		*s = stopIn{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return invalid("stop", "must be a string or an array of strings")
	}
	*s = many
	return nil
}

// params converts the parameters to the engine's (validated already).
func (d *decodingIn) params() quarry.LLMParams {
	p := quarry.LLMParams{
		Temperature: d.Temperature, TopP: d.TopP, TopK: d.TopK, Seed: d.Seed,
		Stop: d.Stop, RepeatPenalty: d.RepeatPenalty,
	}
	if d.MaxTokens != nil {
		p.MaxTokens = *d.MaxTokens
	}
	return p
}
