package server

import (
	"net/http"
	"time"

	"github.com/quarry-rag/quarry"
)

const askRoute = "/v1/collections/{c}/ask"

// The events of a streamed answer, in order: one retrieval, token*, one
// citations, one done; or, when the answer fails after the stream began,
// one error and the end of the stream.
type (
	retrievalEvent struct {
		Sources []hitOut `json:"sources"`
	}
	tokenEvent struct {
		Text string `json:"text"`
	}
	citationsEvent struct {
		Citations []citationOut `json:"citations"`
	}
)

// ask answers a question: one JSON object, or with "stream": true a stream
// of Server-Sent Events.
func (s *Server) ask(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	col, err := s.collection(r)
	if err != nil {
		return err
	}
	var in askRequest
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
	if !in.Stream {
		ans, err := col.Ask(r.Context(), req)
		if err != nil {
			return withSources(err, ans)
		}
		return s.writeJSON(w, http.StatusOK, fromAnswer(ans))
	}
	sw := s.newSSE(w, askRoute, start)
	defer sw.close()
	ans, err := col.AskStream(r.Context(), req, func(ev quarry.AskEvent) error {
		switch ev.Type {
		case quarry.EventRetrieval:
			return sw.event("retrieval", retrievalEvent{Sources: fromHits(ev.Sources)})
		case quarry.EventToken:
			return sw.token("token", tokenEvent{Text: ev.Token})
		case quarry.EventCitations:
			return sw.event("citations", citationsEvent{Citations: fromCitations(ev.Citations)})
		case quarry.EventDone:
			return sw.event("done", fromAnswer(ev.Answer))
		}
		return nil // an event type this server does not know yet
	})
	return s.endStream(sw, r, withSources(err, ans), "error", func(e *apiError) any {
		// The sources went out in the retrieval event.
		return errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Score: e.Score}}
	})
}

// endStream finishes a streamed response that ended with err. Before the
// stream began, err is returned and becomes an ordinary JSON error
// response. After, it is written as an "error" event (body(err) is its
// data, event its name) unless the client is gone, and the stream ends.
func (s *Server) endStream(sw *sseWriter, r *http.Request, err error, event string, body func(*apiError) any) error {
	if err == nil {
		return nil
	}
	if !sw.begun() {
		return err
	}
	if sw.clientGone() || r.Context().Err() != nil {
		s.log.Debug("stream ended: the client went away", "path", r.URL.Path, "err", err)
		return nil
	}
	e, internal := toAPIError(err)
	if internal {
		s.log.Error("stream failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if e.Code == codeInvalid || e.Code == codeTooLarge || e.Code == codeNotFound {
		s.log.Debug("stream rejected", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Warn("stream failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if werr := sw.event(event, body(e)); werr != nil {
		s.log.Debug("writing the error event", "err", werr)
	}
	return nil
}

// toEngine validates the request's own fields and builds the engine's.
func (in *askRequest) toEngine() (quarry.AskRequest, error) {
	if err := in.decodingIn.validate(); err != nil {
		return quarry.AskRequest{}, err
	}
	if len(in.Model) > maxModelBytes {
		return quarry.AskRequest{}, invalid("model", "is %d bytes; the limit is %d", len(in.Model), maxModelBytes)
	}
	return quarry.AskRequest{
		Question: in.Question, K: in.K, Mode: in.Mode, MaxSentences: in.MaxSentences,
		Tenant: in.Tenant, Principals: in.Principals, Filter: quarry.Filter(in.Filter),
		Method: in.Method, Model: in.Model, Params: in.decodingIn.params(), History: toMessages(in.History),
		Rewrite: in.Rewrite, Expansions: in.Expansions, NoCache: in.NoCache,
	}, nil
}
