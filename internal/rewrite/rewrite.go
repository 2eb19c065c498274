package rewrite

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/quarry-rag/quarry/internal/llm"
)

// Rewriter rewrites questions with a chat model.
type Rewriter struct {
	Chat   llm.Chat
	Model  string
	Params llm.Params // MaxTokens is set per call when zero
}

// MaxExpansions bounds Expand's n.
const MaxExpansions = 8

func (r *Rewriter) complete(ctx context.Context, prompt string, maxTokens int, stop []string) (string, error) {
	p := r.Params
	if p.MaxTokens == 0 {
		p.MaxTokens = maxTokens
	}
	p.Stop = stop
	resp, err := r.Chat.Complete(ctx, llm.Request{Model: r.Model, Messages: []llm.Message{{Role: "user", Content: prompt}}, Params: p})
	if err != nil {
		return "", err
	}
	return resp.Content, nil
}

// Condense returns question rewritten to stand alone given the earlier
// turns of history. Without history it returns question unchanged, with no
// model call.
func (r *Rewriter) Condense(ctx context.Context, history []llm.Message, question string) (string, error) {
	if len(history) == 0 {
		return question, nil
	}
	var b strings.Builder
	b.WriteString("Rewrite the follow-up question as a standalone question that can be understood without the conversation. Keep names and terms from the conversation.\n\n")
	b.WriteString("Conversation:\nUser: Who wrote Hamlet?\nAssistant: William Shakespeare.\nFollow-up question: When was he born?\nStandalone question: When was William Shakespeare born?\n\n")
	b.WriteString("Conversation:\n")
	// The last turns matter most; keep the prompt small.
	if len(history) > 6 {
		history = history[len(history)-6:]
	}
	for _, m := range history {
		role := "User"
		if m.Role == "assistant" {
			role = "Assistant"
		}
		fmt.Fprintf(&b, "%s: %s\n", role, oneLine(m.Content, 600))
	}
	fmt.Fprintf(&b, "Follow-up question: %s\nStandalone question:", oneLine(question, 1000))
	out, err := r.complete(ctx, b.String(), 64, []string{"\n"})
	if err != nil {
		return "", fmt.Errorf("rewrite: condensing the question: %w", err)
	}
	if q := clean(out); q != "" {
		return q, nil
	}
	return question, nil
}

// Expand returns up to n paraphrases of question (not including it).
func (r *Rewriter) Expand(ctx context.Context, question string, n int) ([]string, error) {
	if n < 1 || n > MaxExpansions {
		return nil, fmt.Errorf("rewrite: expansions must be between 1 and %d, got %d", MaxExpansions, n)
	}
	prompt := fmt.Sprintf("Write %d different search queries that ask for the same information as the question, one per line.\n\n"+
		"Question: what causes tides\nQueries:\n1. why do ocean tides happen\n2. moon gravity effect on sea level\n\n"+
		"Question: %s\nQueries:\n1.", n, oneLine(question, 1000))
	out, err := r.complete(ctx, prompt, 16*n, []string{"\n\n", "Question:"})
	if err != nil {
		return nil, fmt.Errorf("rewrite: expanding the question: %w", err)
	}
	seen := map[string]bool{strings.ToLower(strings.TrimSpace(question)): true}
	var qs []string
	for _, line := range strings.Split(out, "\n") {
		q := clean(line)
		if q == "" || seen[strings.ToLower(q)] {
			continue
		}
		seen[strings.ToLower(q)] = true
		qs = append(qs, q)
		if len(qs) == n {
			break
		}
	}
	return qs, nil
}

// HyDE returns a short hypothetical passage that answers question.
func (r *Rewriter) HyDE(ctx context.Context, question string) (string, error) {
	prompt := "Write a short passage from a reference text that answers the question.\n\n" +
		"Question: " + oneLine(question, 1000) + "\nPassage:"
	out, err := r.complete(ctx, prompt, 64, []string{"\n\n", "Question:"})
	if err != nil {
		return "", fmt.Errorf("rewrite: writing a hypothetical passage: %w", err)
	}
	return strings.TrimSpace(out), nil
}

var listMark = regexp.MustCompile(`^\s*(?:\d+[.)]|[-*•])\s*`)

// clean strips list numbering, quotes and white space from one line.
func clean(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = listMark.ReplaceAllString(s, "")
	return strings.Trim(strings.TrimSpace(s), "\"'“”")
}

func oneLine(s string, maxRunes int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes])
	}
	return s
}
