package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quarry-rag/quarry"
)

const chatRoute = "/v1/chat/completions"

// chatCompletions is OpenAI's chat completion API over a collection: the
// model is the collection's name, the last message (a user's) the
// question, the earlier ones the conversation. The OpenAI SDKs' api_key is
// the Quarry API key (Authorization: Bearer), checked before this runs.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	var in chatRequest
	if err := readJSON(w, r, s.opts.MaxQueryBodyBytes, &in); err != nil {
		return err
	}
	if err := readScope(r, &in.scopeIn); err != nil {
		return err
	}
	req, err := in.toEngine()
	if err != nil {
		return err
	}
	// Engine errors name the engine's fields; name the request's.
	rename := func(err error) error { return renameFields(err, in.fieldName) }
	col, err := s.modelCollection(r.Context(), in.Model)
	if err != nil {
		return err
	}
	id, created := newCompletionID(), time.Now().Unix()
	if in.structure.on() || len(req.ToolTurns) > 0 {
		// JSON or tool calls: the whole output is checked before any of
		// it is sent, so a stream sends it at once.
		// Not cached: an answer that fails its check must not be served
		// again, and tool exchanges are not answers to the question.
		req.NoCache = true
		ans, err := s.structuredAnswer(r.Context(), col, req, &in.structure)
		if err != nil {
			return rename(withSources(err, ans))
		}
		if in.Stream {
			return s.streamFinished(w, r, start, &in, id, created, ans)
		}
		return s.writeJSON(w, http.StatusOK, completionOf(&in, id, created, ans))
	}
	if !in.Stream {
		ans, err := col.Ask(r.Context(), req)
		if err != nil {
			return rename(withSources(err, ans))
		}
		return s.writeJSON(w, http.StatusOK, completionOf(&in, id, created, ans))
	}
	sw := s.newSSE(w, chatRoute, start)
	defer sw.close()
	chunk := func(choices []chunkChoice) chatChunk {
		return chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: in.Model, Choices: choices}
	}
	ans, err := col.AskStream(r.Context(), req, func(ev quarry.AskEvent) error {
		switch ev.Type {
		case quarry.EventRetrieval:
			// OpenAI's first chunk: the role, no content yet.
			empty := ""
			return sw.event("", chunk([]chunkChoice{{Delta: chunkDelta{Role: "assistant", Content: &empty}}}))
		case quarry.EventToken:
			if ev.Token == "" {
				return nil
			}
			text := ev.Token
			return sw.token("", chunk([]chunkChoice{{Delta: chunkDelta{Content: &text}}}))
		case quarry.EventDone:
			ans := ev.Answer
			fr := finishReason(ans)
			last := chunk([]chunkChoice{{Delta: chunkDelta{}, FinishReason: &fr}})
			last.Citations = fromCitations(ans.Citations)
			last.Quarry = quarryInfo(ans)
			if err := sw.event("", last); err != nil {
				return err
			}
			if in.StreamOptions != nil && in.StreamOptions.IncludeUsage {
				u := usageOf(ans)
				usage := chunk([]chunkChoice{})
				usage.Usage = &u
				if err := sw.event("", usage); err != nil {
					return err
				}
			}
			return sw.raw("", []byte("[DONE]"))
		}
		return nil // citations arrive with the finish reason; unknown events are skipped
	})
	return s.endStream(sw, r, rename(withSources(err, ans)), "", func(e *apiError) any { return toOpenAIError(e, nil) })
}

// completionOf is the non-streamed response.
func completionOf(in *chatRequest, id string, created int64, ans *quarry.Answer) chatCompletion {
	msg := chatMessageOut{Role: "assistant", Content: &ans.Answer, ToolCalls: toolCallsOut(ans.ToolCalls, false), Citations: fromCitations(ans.Citations)}
	if ans.Answer == "" && len(ans.ToolCalls) > 0 {
		msg.Content = nil
	}
	return chatCompletion{
		ID: id, Object: "chat.completion", Created: created, Model: in.Model,
		Choices: []chatChoice{{Message: msg, FinishReason: finishReason(ans)}},
		Usage:   usageOf(ans),
		Sources: fromHits(ans.Sources),
		Quarry:  quarryInfo(ans),
	}
}

// toolCallsOut converts the model's calls to OpenAI's shape, each with a
// fresh id (Ollama numbers its calls from 0 in every reply, so its ids
// would repeat within a conversation). delta numbers them for a stream.
func toolCallsOut(calls []quarry.ToolCall, delta bool) []toolCallOut {
	var out []toolCallOut
	for i, c := range calls {
		args := c.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		tc := toolCallOut{ID: newToolCallID(), Type: "function", Function: toolCallFuncOut{Name: c.Name, Arguments: args}}
		if delta {
			tc.Index = &i
		}
		out = append(out, tc)
	}
	return out
}

// newToolCallID returns a fresh "call_…" id.
func newToolCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "call_" + hex.EncodeToString(b[:])
}

// streamFinished streams an answer that is already complete (checked JSON
// or tool calls) as OpenAI's chunks: the role, the content, each tool
// call (its id and name, then its arguments), the finish reason with the
// citations, the optional usage, [DONE].
func (s *Server) streamFinished(w http.ResponseWriter, r *http.Request, start time.Time, in *chatRequest, id string, created int64, ans *quarry.Answer) error {
	sw := s.newSSE(w, chatRoute, start)
	defer sw.close()
	chunk := func(d chunkDelta) chatChunk {
		return chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: in.Model, Choices: []chunkChoice{{Delta: d}}}
	}
	empty := ""
	events := []chatChunk{chunk(chunkDelta{Role: "assistant", Content: &empty})}
	if ans.Answer != "" {
		events = append(events, chunk(chunkDelta{Content: &ans.Answer}))
	}
	for _, tc := range toolCallsOut(ans.ToolCalls, true) {
		args := tc.Function.Arguments
		tc.Function.Arguments = ""
		events = append(events, chunk(chunkDelta{ToolCalls: []toolCallOut{tc}}))
		events = append(events, chunk(chunkDelta{ToolCalls: []toolCallOut{{Index: tc.Index, Function: toolCallFuncOut{Arguments: args}}}}))
	}
	fr := finishReason(ans)
	last := chunk(chunkDelta{})
	last.Choices[0].FinishReason = &fr
	last.Citations = fromCitations(ans.Citations)
	last.Quarry = quarryInfo(ans)
	events = append(events, last)
	if in.StreamOptions != nil && in.StreamOptions.IncludeUsage {
		u := usageOf(ans)
		usage := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: in.Model, Choices: []chunkChoice{}, Usage: &u}
		events = append(events, usage)
	}
	for i, ev := range events {
		write := sw.event
		if i == 1 {
			write = sw.token // the first content: time to first token
		}
		if err := write("", ev); err != nil {
			return s.endStream(sw, r, err, "", func(e *apiError) any { return toOpenAIError(e, nil) })
		}
	}
	if err := sw.raw("", []byte("[DONE]")); err != nil {
		return s.endStream(sw, r, err, "", func(e *apiError) any { return toOpenAIError(e, nil) })
	}
	return nil
}

// modelCollection returns the collection a request's model names; an
// unknown one is a 404 about the field model (OpenAI's model_not_found).
func (s *Server) modelCollection(ctx context.Context, name string) (*quarry.Collection, error) {
	col, err := s.eng.Collection(ctx, name)
	if errors.Is(err, quarry.ErrNotFound) || errors.Is(err, quarry.ErrInvalid) {
		return nil, &apiError{Code: codeNotFound, Field: "model",
			Message: "the model " + quoteName(name) + " does not exist: models are the server's collections (GET /v1/models lists them)"}
	}
	return col, err
}

func quoteName(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "`" + s + "`"
}

// toEngine checks the OpenAI-specific fields and builds the engine's
// request: the last user message is the question, the messages before it
// the conversation, and any after it (assistant tool calls and the tools'
// results) the tool turns.
func (in *chatRequest) toEngine() (quarry.AskRequest, error) {
	if in.Model == "" {
		return quarry.AskRequest{}, invalid("model", "is required: name the collection to answer from")
	}
	if err := in.openAIExtrasIn.validate(); err != nil {
		return quarry.AskRequest{}, err
	}
	format, err := in.openAIExtrasIn.responseFormat(&in.structure)
	if err != nil {
		return quarry.AskRequest{}, err
	}
	if err := in.openAIExtrasIn.checkTools(&in.structure); err != nil {
		return quarry.AskRequest{}, err
	}
	if in.Messages == nil {
		return quarry.AskRequest{}, invalid("messages", "is required")
	}
	if len(in.Messages) == 0 {
		return quarry.AskRequest{}, invalid("messages", "is empty; the last message must be the user's question")
	}
	calls, err := in.checkMessages()
	if err != nil {
		return quarry.AskRequest{}, err
	}
	lastUser := -1
	for i, m := range in.Messages {
		if m.Role == "user" {
			lastUser = i
		}
	}
	if lastUser < 0 {
		return quarry.AskRequest{}, invalid("messages", "has no user message; the last message must be the user's question")
	}
	last := len(in.Messages) - 1
	turns := in.Messages[lastUser+1:]
	if len(turns) > 0 && (in.Messages[last].Role != "tool" || len(in.structure.specs) == 0 && !hasToolTurn(turns)) {
		want := "the user's question"
		if len(in.structure.specs) > 0 {
			want = "the user's question or a tool's result"
		}
		return quarry.AskRequest{}, invalid(joinPath(indexPath("messages", last), "role"), "the last message must be %s, got role %q", want, in.Messages[last].Role)
	}
	in.question = lastUser
	question := strings.TrimSpace(in.Messages[lastUser].Content.Text)
	if question == "" {
		return quarry.AskRequest{}, invalid(joinPath(indexPath("messages", lastUser), "content"), "is empty; it is the question")
	}
	if in.N != nil && *in.N != 1 {
		return quarry.AskRequest{}, invalid("n", "must be 1 (one answer per request), got %d", *in.N)
	}
	if in.MaxCompletionTokens != nil {
		if in.MaxTokens != nil && *in.MaxTokens != *in.MaxCompletionTokens {
			return quarry.AskRequest{}, invalid("max_completion_tokens", "differs from max_tokens; send one of them")
		}
		in.MaxTokens = in.MaxCompletionTokens
	}
	if in.StreamOptions != nil && !in.Stream {
		return quarry.AskRequest{}, invalid("stream_options", "is only allowed with \"stream\": true")
	}
	if err := in.decodingIn.validate(); err != nil {
		if ae, ok := err.(*apiError); ok && ae.Field == "max_tokens" && in.MaxCompletionTokens != nil {
			ae.Field = "max_completion_tokens"
		}
		return quarry.AskRequest{}, err
	}
	// The earlier messages are the conversation; the engine condenses it
	// with the question into a standalone question (with a language model).
	// Tool calls and results before the question are not part of it.
	var history []quarry.Message
	for _, m := range in.Messages[:lastUser] {
		role := m.Role
		switch {
		case role == "tool" || m.Content.Text == "" && len(m.ToolCalls) > 0:
			continue
		case role == "developer":
			role = "system"
		}
		history = append(history, quarry.Message{Role: role, Content: m.Content.Text})
	}
	var toolTurns []quarry.ToolMessage
	for _, m := range turns {
		tm := quarry.ToolMessage{Role: m.Role, Content: m.Content.Text, ToolCallID: m.ToolCallID, ToolName: calls[m.ToolCallID]}
		if m.Role == "developer" || m.Role == "system" {
			return quarry.AskRequest{}, invalid("messages", "a %s message after the question is not supported", m.Role)
		}
		for _, c := range m.ToolCalls {
			tm.ToolCalls = append(tm.ToolCalls, quarry.ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
		}
		toolTurns = append(toolTurns, tm)
	}
	params := in.decodingIn.params()
	params.PresencePenalty, params.FrequencyPenalty, params.Format = in.PresencePenalty, in.FrequencyPenalty, format
	method := in.Method
	if method == "" && (in.structure.on() || len(toolTurns) > 0) {
		method = quarry.MethodLLM
		in.forcedBy = "response_format"
		if !in.structure.jsonMode {
			in.forcedBy = "tools"
		}
	}
	if method != quarry.MethodLLM {
		switch {
		case in.structure.jsonMode:
			return quarry.AskRequest{}, invalid("response_format", "JSON output needs the llm method; got method %q", method)
		case in.structure.on() || len(toolTurns) > 0:
			return quarry.AskRequest{}, invalid("tools", "tools need the llm method; got method %q", method)
		}
	}
	return quarry.AskRequest{
		Question: question, K: in.K, Mode: in.Mode,
		Tenant: in.Tenant, Principals: in.Principals, Filter: quarry.Filter(in.Filter),
		Method: method, Params: params, History: history,
		Rewrite: in.Rewrite, Expansions: in.Expansions, NoCache: in.NoCache,
		Tools: in.structure.specs, ToolChoice: in.structure.choice, ToolTurns: toolTurns,
	}, nil
}

// hasToolTurn reports whether the messages call tools or answer a call.
func hasToolTurn(msgs []chatMessageIn) bool {
	for _, m := range msgs {
		if m.Role == "tool" || len(m.ToolCalls) > 0 {
			return true
		}
	}
	return false
}

// checkMessages checks every message's role and tool fields: tool calls
// only on assistant messages, each tool message answering an earlier call
// by its id. It returns the calls' tool names by id.
func (in *chatRequest) checkMessages() (map[string]string, error) {
	calls := map[string]string{}
	for i, m := range in.Messages {
		at := indexPath("messages", i)
		if !chatRoles[m.Role] {
			return nil, invalid(joinPath(at, "role"), "must be one of system, developer, user, assistant, tool; got %q", m.Role)
		}
		if len(m.ToolCalls) > 0 && m.Role != "assistant" {
			return nil, invalid(joinPath(at, "tool_calls"), "only assistant messages carry tool calls")
		}
		if len(m.ToolCalls) > quarry.MaxTools {
			return nil, invalid(joinPath(at, "tool_calls"), "has %d calls; the limit is %d", len(m.ToolCalls), quarry.MaxTools)
		}
		for j, c := range m.ToolCalls {
			cat := joinPath(at, indexPath("tool_calls", j))
			switch {
			case c.ID == "" || len(c.ID) > maxToolCallID:
				return nil, invalid(joinPath(cat, "id"), "must be 1 to %d bytes", maxToolCallID)
			case c.Type != "" && c.Type != "function":
				return nil, invalid(joinPath(cat, "type"), "must be function, got %q", c.Type)
			case c.Function.Name == "":
				return nil, invalid(joinPath(cat, "function.name"), "is required")
			}
			calls[c.ID] = c.Function.Name
		}
		if m.Role == "tool" {
			if m.ToolCallID == "" {
				return nil, invalid(joinPath(at, "tool_call_id"), "is required: the id of the tool call this message answers")
			}
			if _, ok := calls[m.ToolCallID]; !ok {
				return nil, invalid(joinPath(at, "tool_call_id"), "answers no tool call of an earlier assistant message: %s", quoteName(m.ToolCallID))
			}
		} else if m.ToolCallID != "" {
			return nil, invalid(joinPath(at, "tool_call_id"), "is only allowed on tool messages")
		}
	}
	return calls, nil
}

// fieldName maps a field the engine named to the request's: history[i] is
// messages[i], the question the last message's content, params.x is x.
func (in *chatRequest) fieldName(f string) string {
	switch {
	case f == "question":
		return joinPath(indexPath("messages", in.question), "content")
	case f == "history":
		return "messages"
	case strings.HasPrefix(f, "history["):
		return "messages" + strings.TrimPrefix(f, "history")
	case f == "params.format":
		return "response_format"
	case strings.HasPrefix(f, "params."):
		return strings.TrimPrefix(f, "params.")
	case f == "method" && in.forcedBy != "":
		return in.forcedBy
	case f == "tool_turns" || strings.HasPrefix(f, "tool_turns["):
		return "messages"
	}
	return f
}

// quarryInfo is how an answer was made, for the chat routes.
func quarryInfo(a *quarry.Answer) *chatQuarryInfo {
	info := &chatQuarryInfo{Method: a.Method, TookMS: millis(a.Took), LLMModel: a.Model, Grounded: a.Grounded, Cached: a.Cached,
		InvalidCitations: a.InvalidCitations, Timings: fromTimings(a.Timings)}
	return info
}

func indexPath(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// finishReason is OpenAI's: "tool_calls" when the model called tools,
// "length" when it hit max_tokens, else "stop".
func finishReason(a *quarry.Answer) string {
	switch {
	case len(a.ToolCalls) > 0:
		return "tool_calls"
	case a.FinishReason == "length":
		return "length"
	}
	return "stop"
}

// usageOf counts the answer's tokens as the language model reported them;
// an extractive answer used none.
func usageOf(a *quarry.Answer) chatUsage {
	if a.Usage == nil {
		return chatUsage{}
	}
	u := a.Usage
	return chatUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens}
}

// newCompletionID returns a fresh "chatcmpl-…" id.
func newCompletionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// listModels is GET /v1/models: every collection as a model.
func (s *Server) listModels(w http.ResponseWriter, _ *http.Request) error {
	out := modelList{Object: "list", Data: []modelOut{}}
	for _, name := range s.eng.Collections() {
		out.Data = append(out.Data, modelOut{ID: name, Object: "model", OwnedBy: "quarry"})
	}
	return s.writeJSON(w, http.StatusOK, out)
}

// getModel is GET /v1/models/{model}.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("model")
	if _, err := s.modelCollection(r.Context(), name); err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, modelOut{ID: name, Object: "model", OwnedBy: "quarry"})
}
