package guard

import (
	"errors"
	"fmt"
	"strings"
)

// QuestionPolicy says what happens to a question or chat message the
// detector flags. The zero value is the default, QuestionFlag.
type QuestionPolicy uint8

const (
	// QuestionFlag answers, and marks the response as flagged with the
	// score (default).
	QuestionFlag QuestionPolicy = iota
	// QuestionBlock refuses: the caller returns *BlockedError (HTTP 400
	// "prompt_injection" with the score).
	QuestionBlock
	// QuestionOff does not score questions.
	QuestionOff
)

var questionNames = []string{"flag", "block", "off"}

func (p QuestionPolicy) String() string {
	if int(p) < len(questionNames) {
		return questionNames[p]
	}
	return fmt.Sprintf("QuestionPolicy(%d)", uint8(p))
}

// ParseQuestionPolicy reads "flag", "block" or "off" ("" is flag).
func ParseQuestionPolicy(s string) (QuestionPolicy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return QuestionFlag, nil
	}
	for i, n := range questionNames {
		if s == n {
			return QuestionPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("guard: question policy %q (want block, flag or off)", s)
}

func (p QuestionPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }
func (p *QuestionPolicy) UnmarshalText(b []byte) error {
	v, err := ParseQuestionPolicy(string(b))
	*p = v
	return err
}

// ChunkPolicy says whether chunks flagged at ingest may enter an LLM
// prompt. Search results always show them, marked. The zero value is the
// default, ChunkExclude.
type ChunkPolicy uint8

const (
	// ChunkExclude keeps flagged chunks out of LLM prompts (default).
	ChunkExclude ChunkPolicy = iota
	// ChunkFlag lets them in, marked as flagged in the response.
	ChunkFlag
	// ChunkOff does not score chunks.
	ChunkOff
)

var chunkNames = []string{"exclude", "flag", "off"}

func (p ChunkPolicy) String() string {
	if int(p) < len(chunkNames) {
		return chunkNames[p]
	}
	return fmt.Sprintf("ChunkPolicy(%d)", uint8(p))
}

// ParseChunkPolicy reads "exclude", "flag" or "off" ("" is exclude).
func ParseChunkPolicy(s string) (ChunkPolicy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ChunkExclude, nil
	}
	for i, n := range chunkNames {
		if s == n {
			return ChunkPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("guard: chunk policy %q (want exclude, flag or off)", s)
}

func (p ChunkPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }
func (p *ChunkPolicy) UnmarshalText(b []byte) error {
	v, err := ParseChunkPolicy(string(b))
	*p = v
	return err
}

// ErrBlocked is wrapped by *BlockedError.
var ErrBlocked = errors.New("guard: prompt injection")

// BlockedError is a question refused under QuestionBlock.
type BlockedError struct {
	Score     float64
	Threshold float64
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("guard: prompt injection: score %.3f ≥ threshold %.3f", e.Score, e.Threshold)
}

func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Action is what a pipeline does with a scored text.
type Action uint8

const (
	Allow Action = iota
	Flag
	Block   // questions under QuestionBlock
	Exclude // chunks under ChunkExclude: not in the LLM prompt
)

func (a Action) String() string {
	return [...]string{"allow", "flag", "block", "exclude"}[a]
}

// Question decides for a scored question.
func (p QuestionPolicy) Question(r Result) Action {
	if p == QuestionOff || !r.Injection {
		return Allow
	}
	if p == QuestionBlock {
		return Block
	}
	return Flag
}

// ForLLM decides whether a chunk with a stored score may enter an LLM
// prompt.
func (p ChunkPolicy) ForLLM(score, threshold float64) Action {
	if p == ChunkOff || score < threshold {
		return Allow
	}
	if p == ChunkExclude {
		return Exclude
	}
	return Flag
}
