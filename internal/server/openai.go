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
	if !in.Stream {
		ans, err := col.Ask(r.Context(), req)
		if err != nil {
			return rename(withSources(err, ans))
		}
		return s.writeJSON(w, http.StatusOK, chatCompletion{
			ID: id, Object: "chat.completion", Created: created, Model: in.Model,
			Choices: []chatChoice{{Message: chatMessageOut{Role: "assistant", Content: ans.Answer, Citations: fromCitations(ans.Citations)}, FinishReason: finishReason(ans)}},
			Usage:   usageOf(ans),
			Sources: fromHits(ans.Sources),
			Quarry:  quarryInfo(ans),
		})
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
// request: the last message is the question.
func (in *chatRequest) toEngine() (quarry.AskRequest, error) {
	if in.Model == "" {
		return quarry.AskRequest{}, invalid("model", "is required: name the collection to answer from")
	}
	if err := in.openAIExtrasIn.validate(); err != nil {
		return quarry.AskRequest{}, err
	}
	if in.Messages == nil {
		return quarry.AskRequest{}, invalid("messages", "is required")
	}
	if len(in.Messages) == 0 {
		return quarry.AskRequest{}, invalid("messages", "is empty; the last message must be the user's question")
	}
	for i, m := range in.Messages {
		if !chatRoles[m.Role] {
			return quarry.AskRequest{}, invalid(joinPath(indexPath("messages", i), "role"), "must be one of system, developer, user, assistant; got %q (tools are not supported)", m.Role)
		}
	}
	last := len(in.Messages) - 1
	if in.Messages[last].Role != "user" {
		hasUser := false
		for _, m := range in.Messages {
			hasUser = hasUser || m.Role == "user"
		}
		if !hasUser {
			return quarry.AskRequest{}, invalid("messages", "has no user message; the last message must be the user's question")
		}
		return quarry.AskRequest{}, invalid(joinPath(indexPath("messages", last), "role"), "the last message must be the user's question, got role %q", in.Messages[last].Role)
	}
	question := strings.TrimSpace(in.Messages[last].Content.Text)
	if question == "" {
		return quarry.AskRequest{}, invalid(joinPath(indexPath("messages", last), "content"), "is empty; it is the question")
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
	var history []quarry.Message
	for _, m := range in.Messages[:last] {
		role := m.Role
		if role == "developer" {
			role = "system"
		}
		history = append(history, quarry.Message{Role: role, Content: m.Content.Text})
	}
	return quarry.AskRequest{
		Question: question, K: in.K, Mode: in.Mode,
		Tenant: in.Tenant, Principals: in.Principals, Filter: quarry.Filter(in.Filter),
		Method: in.Method, Params: in.decodingIn.params(), History: history,
		Rewrite: in.Rewrite, Expansions: in.Expansions, NoCache: in.NoCache,
	}, nil
}

// fieldName maps a field the engine named to the request's: history[i] is
// messages[i], the question the last message's content, params.x is x.
func (in *chatRequest) fieldName(f string) string {
	switch {
	case f == "question":
		return joinPath(indexPath("messages", len(in.Messages)-1), "content")
	case f == "history":
		return "messages"
	case strings.HasPrefix(f, "history["):
		return "messages" + strings.TrimPrefix(f, "history")
	case strings.HasPrefix(f, "params."):
		return strings.TrimPrefix(f, "params.")
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

// finishReason is OpenAI's: "length" when the model hit max_tokens, else
// "stop".
func finishReason(a *quarry.Answer) string {
	if a.FinishReason == "length" {
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
