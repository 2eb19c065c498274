package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
)

// Ask runs a question plan: answer cache → rewrite → retrieval (as
// Retrieve) → the context filter hook → an extractive or LLM answer → the
// answer check hook → cache. emit (nil: none) receives each step as it
// happens (see AskEvent). A language-model failure returns an *llm.Error
// together with an Answer whose Sources hold the retrieval results.
func (p *Pipeline) Ask(ctx context.Context, plan *Plan, emit func(AskEvent) error) (*Answer, error) {
	start := time.Now()
	if emit == nil {
		emit = func(AskEvent) error { return nil }
	}
	if err := p.Hooks.checkQuestion(ctx, plan); err != nil {
		return nil, err
	}
	var ac *AnswerCache
	if !plan.NoCache && p.Cache != nil {
		ac = p.Cache()
	}
	var pr probe
	if ac != nil {
		var ans *Answer
		cctx := p.Hooks.start(ctx, StageCache)
		if ans, pr = ac.lookup(cctx, p, plan); ans != nil {
			ans.Timings = Timings{Total: ms(time.Since(start))}
			ans.Took = time.Since(start)
			ans.Timings.TTFT = ans.Timings.Total
			ans.Guard = plan.Guard
			p.Hooks.trace(cctx, StageEvent{Stage: StageCache, Took: ans.Took, Hits: ans.Sources, Hit: true})
			return ans, replay(ans, emit)
		}
		p.Hooks.trace(cctx, StageEvent{Stage: StageCache, Took: time.Since(start)})
	}
	ans := &Answer{Citations: []Citation{}, Sources: []base.Hit{}, Guard: plan.Guard}
	if pr.vec == nil {
		pr.vec = plan.QueryVector
	}

	// Rewriting: conversational condensation, then multi-query or HyDE.
	t := time.Now()
	question := plan.Query
	queries := []Query{{Text: question, Vector: pr.vec}}
	if plan.LLM.On() && (len(plan.History) > 0 || plan.Rewrite != RewriteNone) {
		rctx := p.Hooks.start(ctx, StageRewrite)
		rw, err := p.rewrite(rctx, plan, pr.vec)
		if err != nil {
			p.Hooks.trace(rctx, StageEvent{Stage: StageRewrite, Took: time.Since(t), Err: err})
			var le *llm.Error
			if errors.As(err, &le) {
				return ans, err
			}
			return nil, err
		}
		question, queries, ans.Queries = rw.question, rw.queries, rw.paraphrase
		p.Hooks.trace(rctx, StageEvent{Stage: StageRewrite, Took: time.Since(t), Queries: texts(queries)})
	}
	if queries[0].Text != plan.Query {
		ans.Query = queries[0].Text
	}
	ans.Timings.Rewrite = ms(time.Since(t))

	hits, tm, err := p.Retrieve(ctx, plan, queries, question)
	if err != nil {
		return nil, err
	}
	ans.Timings.Retrieve, ans.Timings.Rerank = ms(tm.Retrieve), ms(tm.Rerank)
	if plan.Method == MethodLLM && p.Hooks.Context != nil {
		if hits, err = p.Hooks.Context.FilterContext(ctx, question, hits); err != nil {
			return nil, err
		}
	}
	ans.Sources = hits
	if err := emit(AskEvent{Type: EventRetrieval, Sources: hits}); err != nil {
		return nil, err
	}
	t = time.Now()
	gctx := p.Hooks.start(ctx, StageGenerate)
	switch {
	case len(hits) == 0 || (plan.LLM.MinScore != 0 && hits[0].Score < plan.LLM.MinScore):
		ans.Answer, ans.Method, ans.Abstained = NoAnswer, string(MethodNone), true
		if err := emit(AskEvent{Type: EventToken, Token: ans.Answer}); err != nil {
			p.Hooks.trace(gctx, StageEvent{Stage: StageGenerate, Took: time.Since(t), Err: err})
			return nil, err
		}
		ans.Timings.TTFT = ms(time.Since(start))
	case plan.Method == MethodLLM:
		if err := p.generate(gctx, question, plan, ans, start, emit); err != nil {
			p.Hooks.trace(gctx, StageEvent{Stage: StageGenerate, Took: time.Since(t), Answer: ans, Err: err})
			ans.Timings.Total = ms(time.Since(start))
			ans.Took = time.Since(start)
			return ans, err
		}
	default:
		qvec := queries[0].Vector
		if queries[0].Text != question {
			qvec = nil // HyDE: retrieval's vector is the passage's
		}
		if qvec == nil && question == plan.Query {
			qvec = pr.vec // the semantic cache's probe embedded the question
		}
		p.extract(gctx, plan, question, qvec, ans)
		if ans.Answer != "" {
			if err := emit(AskEvent{Type: EventToken, Token: ans.Answer}); err != nil {
				p.Hooks.trace(gctx, StageEvent{Stage: StageGenerate, Took: time.Since(t), Err: err})
				return nil, err
			}
		}
		ans.Timings.TTFT = ms(time.Since(start))
	}
	took := time.Since(t)
	ans.Timings.Generate = ms(took)
	p.Metrics.ObserveStage(obs.StageAnswer, took)
	p.Hooks.trace(gctx, StageEvent{Stage: StageGenerate, Took: took, Hits: ans.Sources, Answer: ans})
	if p.Hooks.Answer != nil {
		if err := p.Hooks.Answer.CheckAnswer(ctx, question, ans); err != nil {
			return ans, err
		}
	}
	ans.Took = time.Since(start)
	ans.Timings.Total = ms(ans.Took)
	if ac != nil && ans.Guard == nil { // a guard report belongs to its request
		ac.store(plan, pr, ans)
	}
	if err := emit(AskEvent{Type: EventCitations, Citations: ans.Citations}); err != nil {
		return nil, err
	}
	if err := emit(AskEvent{Type: EventDone, Answer: ans}); err != nil {
		return nil, err
	}
	return ans, nil
}

// replay streams a finished (cached) answer.
func replay(ans *Answer, emit func(AskEvent) error) error {
	evs := []AskEvent{{Type: EventRetrieval, Sources: ans.Sources}}
	if ans.Answer != "" {
		evs = append(evs, AskEvent{Type: EventToken, Token: ans.Answer})
	}
	evs = append(evs, AskEvent{Type: EventCitations, Citations: ans.Citations}, AskEvent{Type: EventDone, Answer: ans})
	for _, ev := range evs {
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// extract writes the extractive answer: the sentences of the sources that
// best answer the question, each cited. With the collection's embedding
// model the question ↔ sentence similarity counts too; should embedding
// fail, the answer is the lexical one (the failure is traced).
func (p *Pipeline) extract(ctx context.Context, plan *Plan, question string, qvec []float32, ans *Answer) {
	opts := answer.Options{MaxSentences: plan.MaxSentences, Language: p.Language, Embedder: p.answerEmbedder(qvec)}
	ex, _ := answer.ExtractContext(ctx, question, ans.Sources, opts)
	if len(ex.Sentences) == 0 {
		ans.Answer, ans.Method, ans.Abstained = NoAnswer, string(MethodNone), true
		return
	}
	ans.Method, ans.Grounded = string(MethodExtractive), true
	var b strings.Builder
	for i, s := range ex.Sentences {
		h := &ans.Sources[s.Hit]
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s [%d]", s.Text, i+1)
		// Character offsets: the chunk's start in code points plus the
		// sentence's position inside the chunk.
		rs := h.RuneStart + utf8.RuneCountInString(h.Text[:s.Start])
		ans.Citations = append(ans.Citations, Citation{
			Marker: i + 1, DocID: h.DocID, ChunkID: h.ChunkID, Title: h.Title,
			Start: rs, End: rs + utf8.RuneCountInString(s.Text), Text: s.Text,
		})
	}
	ans.Answer = b.String()
}

// generate writes ans with the language model, streaming the filtered
// answer text to emit as it arrives.
func (p *Pipeline) generate(ctx context.Context, question string, plan *Plan, ans *Answer, start time.Time, emit func(AskEvent) error) error {
	s := &plan.LLM
	ans.Method, ans.Model = string(MethodLLM), s.Model
	promptQ, promptHits := question, ans.Sources
	var rs AnswerRestorer
	if p.Hooks.Redact != nil {
		promptQ, promptHits, rs = p.Hooks.Redact.RedactPrompt(question, ans.Sources)
	}
	note := ""
	if s.Params.JSONMode() {
		note = jsonNote(s.Params.FormatSchema())
	}
	// The JSON note, the caller's tool definitions and tool turns are added
	// after the prompt is built; their room comes out of the sources'.
	pr, err := generate.Build(promptQ, nil, promptHits, generate.Budget{ContextWindow: s.Window,
		AnswerTokens: s.Params.MaxTokens + generate.EstimateTokens(note) + toolTokens(plan)}, s.Style)
	if err != nil {
		if errors.Is(err, generate.ErrContextWindow) {
			return base.TooLarge("context_window", "%s", strings.TrimPrefix(err.Error(), generate.ErrContextWindow.Error()+": "))
		}
		return err
	}
	ans.DroppedSources = pr.Dropped
	if rs != nil {
		restoreBlocks(pr.Blocks, ans.Sources, rs)
	}
	params := s.Params.Clone()
	jsonMode := params.JSONMode()
	if jsonMode {
		// The output is JSON: no prefilled marker, no stop sequences of
		// the prompt's (they could cut a JSON text), no marker filter.
		pr.Prefill = ""
		if n := len(pr.Messages); n > 0 {
			pr.Messages[n-1].Content += note
		}
	} else {
		params.Stop = mergeStops(params.Stop, pr.Stop)
	}
	if len(plan.Tools) > 0 || len(plan.ToolTurns) > 0 {
		return p.generateTools(ctx, plan, ans, pr, rs, params, start, emit)
	}
	f := generate.NewFilter(pr.Markers())
	if jsonMode {
		f = nil
	}
	var b strings.Builder
	var emitErr error
	first := true
	send := func(piece string) error {
		if piece == "" {
			return nil
		}
		if b.Len() == 0 {
			ans.Timings.TTFT = ms(time.Since(start))
		}
		b.WriteString(piece)
		if err := emit(AskEvent{Type: EventToken, Token: piece}); err != nil {
			emitErr = err
			return err
		}
		return nil
	}
	resp, err := p.Chat.Get(s).Stream(ctx, llm.Request{Model: s.Model, Messages: pr.Messages, Params: params}, func(d llm.Delta) error {
		piece := d.Content
		if first {
			piece, first = pr.Prefill+piece, false
		}
		if rs != nil {
			piece = rs.Write(piece)
		}
		if f == nil {
			return send(piece)
		}
		return send(f.Push(piece))
	})
	if emitErr != nil {
		return emitErr
	}
	if err != nil {
		ans.Answer = b.String()
		return s.WrapErr(err)
	}
	if rs != nil {
		rest := rs.Flush()
		if f != nil {
			rest = f.Push(rest)
		}
		if err := send(rest); err != nil {
			return err
		}
	}
	if f != nil {
		if err := send(f.Flush()); err != nil {
			return err
		}
		ans.InvalidCitations = f.Invalid()
	}
	ans.Answer = b.String()
	ans.FinishReason = resp.FinishReason
	ans.Usage = &Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	ans.Timings.LLMTTFT = ms(resp.TTFT)
	p.LLMMetrics.Generation(resp.TTFT, resp.Duration, resp.Usage.CompletionTokens)
	p.cite(ans, pr)
	return nil
}

// cite locates the answer's citations in the prompt's blocks.
func (p *Pipeline) cite(ans *Answer, pr *generate.Prompt) {
	for _, gc := range generate.Cite(ans.Answer, pr.Blocks, ans.Sources) {
		h := &ans.Sources[gc.Hit]
		ans.Citations = append(ans.Citations, Citation{Marker: gc.Marker, DocID: h.DocID, ChunkID: h.ChunkID,
			Title: h.Title, Start: gc.Start, End: gc.End, Text: gc.Text})
	}
	ans.Grounded = len(ans.Citations) > 0
	ans.Abstained = saysIDontKnow(ans.Answer)
}

// toolTokens estimates what the caller's tools and tool turns add to the
// prompt.
func toolTokens(plan *Plan) int {
	n := 0
	for _, t := range plan.Tools {
		n += generate.EstimateTokens(t.Name+" "+t.Description+" "+string(t.Parameters)) + 8
	}
	for _, m := range plan.ToolTurns {
		n += generate.EstimateTokens(m.Content) + 4
		for _, c := range m.ToolCalls {
			n += generate.EstimateTokens(c.Name+" "+c.Arguments) + 8
		}
	}
	return n
}

// jsonNote tells the model, at the end of the prompt, that its reply is
// JSON (and which schema it follows): the server constrains decoding, but
// a model that knows writes better JSON.
func jsonNote(schema []byte) string {
	if schema != nil {
		return "\n\nReply with one JSON object only, no other text, that matches this JSON Schema:\n" + string(schema)
	}
	return "\n\nReply with one JSON object only, no other text."
}

// generateTools writes ans with one tool-calling call: the prompt (with its
// sources), then the caller's tool turns, offering the caller's tools. The
// model answers with text, tool calls or both; the text is emitted as one
// token.
func (p *Pipeline) generateTools(ctx context.Context, plan *Plan, ans *Answer, pr *generate.Prompt, rs AnswerRestorer,
	params llm.Params, start time.Time, emit func(AskEvent) error) error {
	s := &plan.LLM
	tc, ok := p.Chat.Get(s).(llm.ToolCaller)
	if !ok {
		return base.Invalidf("tools", "the language model client of %q cannot call tools", s.Model)
	}
	msgs := make([]llm.ToolMessage, 0, len(pr.Messages)+len(plan.ToolTurns))
	for _, m := range pr.Messages {
		msgs = append(msgs, llm.ToolMessage{Role: m.Role, Content: m.Content})
	}
	msgs = append(msgs, plan.ToolTurns...)
	resp, err := tc.CompleteTools(ctx, llm.ToolRequest{Model: s.Model, Messages: msgs, Tools: plan.Tools, Params: params, ToolChoice: plan.ToolChoice})
	if errors.Is(err, llm.ErrToolsUnsupported) {
		return base.Invalidf("tools", "the language model %q does not support tool calling", s.Model)
	}
	if err != nil {
		return s.WrapErr(err)
	}
	text := pr.Prefill + resp.Content
	if resp.Content == "" {
		text = ""
	}
	if rs != nil {
		text = rs.Write(text) + rs.Flush()
	}
	if !params.JSONMode() {
		f := generate.NewFilter(pr.Markers())
		text = f.Push(text) + f.Flush()
		ans.InvalidCitations = f.Invalid()
	}
	ans.Timings.TTFT = ms(time.Since(start))
	if text != "" {
		if err := emit(AskEvent{Type: EventToken, Token: text}); err != nil {
			return err
		}
	}
	ans.Answer = text
	ans.ToolCalls = resp.ToolCalls
	ans.FinishReason = resp.FinishReason
	if len(resp.ToolCalls) > 0 {
		ans.FinishReason = "tool_calls"
	}
	ans.Usage = &Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	ans.Timings.LLMTTFT = ms(resp.TTFT)
	p.LLMMetrics.Generation(resp.TTFT, resp.Duration, resp.Usage.CompletionTokens)
	p.cite(ans, pr)
	return nil
}

// restoreBlocks gives the prompt's blocks their original texts, so that
// citations are located in the hits as stored: a whole block is its hit's
// text, a trimmed one its restored prefix (the whole text when a
// placeholder was cut at the trim).
func restoreBlocks(blocks []generate.Block, hits []base.Hit, rs AnswerRestorer) {
	for i := range blocks {
		b := &blocks[i]
		orig := hits[b.Hit].Text
		if t := rs.Restore(b.Text); b.Trimmed && strings.HasPrefix(orig, t) {
			b.Text = t
		} else {
			b.Text = orig
		}
	}
}

// mergeStops keeps the caller's stop sequences and adds the prompt's while
// there is room (a server takes at most llm.MaxStop).
func mergeStops(user, prompt []string) []string {
	out := append([]string(nil), user...)
	for _, s := range prompt {
		if len(out) == llm.MaxStop {
			break
		}
		out = append(out, s)
	}
	return out
}

func saysIDontKnow(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "i don't know") || strings.Contains(l, "i do not know") || strings.Contains(l, "i don’t know")
}
