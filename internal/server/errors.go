package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/quarry-rag/quarry"
)

// Error codes of the wire format. Each has one HTTP status.
const (
	codeInvalid          = "invalid_argument"       // 400
	codeUnauthenticated  = "unauthenticated"        // 401
	codeForbidden        = "forbidden"              // 403
	codeRateLimited      = "rate_limited"           // 429
	codeUpstream         = "upstream_failed"        // 502
	codeNotFound         = "not_found"              // 404
	codeMethodNotAllowed = "method_not_allowed"     // 405
	codeTooLarge         = "too_large"              // 413
	codeUnsupportedMedia = "unsupported_media_type" // 415
	codeInternal         = "internal"               // 500
	codeLLMFailed        = "llm_failed"             // 502
	codeUnavailable      = "unavailable"            // 503
	codeLLMTimeout       = "llm_timeout"            // 504
	codePromptInjection  = "prompt_injection"       // 400
)

var codeStatus = map[string]int{
	codeInvalid:          http.StatusBadRequest,
	codeUnauthenticated:  http.StatusUnauthorized,
	codeForbidden:        http.StatusForbidden,
	codeRateLimited:      http.StatusTooManyRequests,
	codeUpstream:         http.StatusBadGateway,
	codeNotFound:         http.StatusNotFound,
	codeMethodNotAllowed: http.StatusMethodNotAllowed,
	codeTooLarge:         http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia: http.StatusUnsupportedMediaType,
	codeInternal:         http.StatusInternalServerError,
	codeLLMFailed:        http.StatusBadGateway,
	codeUnavailable:      http.StatusServiceUnavailable,
	codeLLMTimeout:       http.StatusGatewayTimeout,
	codePromptInjection:  http.StatusBadRequest,
}

// apiError is an error as the client sees it. Handlers and decoders return
// it for problems found in the HTTP layer; engine errors become one in
// toAPIError.
type apiError struct {
	Code    string
	Message string
	Field   string // JSON path into the request body, "" when not about one field
	// RetryAfter, when positive, is sent as a Retry-After header.
	RetryAfter time.Duration
	// Score is a refused question's prompt-injection score.
	Score *float64
}

// overloaded is an error refused by back-pressure (embed.OverloadedError
// has this method): 503 with Retry-After.
type overloaded interface{ Overloaded() time.Duration }

func (e *apiError) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + ": " + e.Message
}

func (e *apiError) status() int { return codeStatus[e.Code] }

func invalid(field, format string, args ...any) *apiError {
	return &apiError{Code: codeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// messageError gives an engine error a client-facing message; its class
// (and so its status) still comes from the wrapped error.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *messageError) Unwrap() error { return e.err }

func withMessage(err error, format string, args ...any) error {
	return &messageError{msg: fmt.Sprintf(format, args...), err: err}
}

// toAPIError maps any error to its wire form. This is the one place where
// engine errors become HTTP statuses. internal reports whether the error is
// the server's fault (and so worth logging with its full text, which is not
// sent to the client).
func toAPIError(err error) (e *apiError, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	var be *busyError
	if errors.As(err, &be) {
		return be.e, false
	}
	msg := err.Error()
	var me *messageError
	if errors.As(err, &me) {
		msg = me.msg
	}
	var field string
	var fe *quarry.FieldError
	if errors.As(err, &fe) {
		field = fe.Field
		if me == nil {
			msg = fe.Msg
		}
	}
	var (
		mbe *http.MaxBytesError
		le  *quarry.LLMError
		ov  overloaded
	)
	if e := guardError(err); e != nil {
		return e, false
	}
	switch {
	case errors.As(err, &ov):
		return &apiError{Code: codeUnavailable, Message: "the server is overloaded; retry after the Retry-After delay", RetryAfter: ov.Overloaded()}, false
	case errors.As(err, &le):
		// Before the context cases: a model call that timed out wraps
		// context.DeadlineExceeded. The URL stays in the log.
		if le.Timeout {
			return &apiError{Code: codeLLMTimeout, Message: fmt.Sprintf("the language model %q (%s) timed out; the retrieved sources are in sources", le.Model, le.Provider)}, false
		}
		return &apiError{Code: codeLLMFailed, Message: fmt.Sprintf("the language model %q (%s) is unreachable or failed; the retrieved sources are in sources", le.Model, le.Provider)}, false
	case errors.As(err, &mbe):
		return &apiError{Code: codeTooLarge, Message: fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit)}, false
	case errors.Is(err, quarry.ErrTooLarge):
		return &apiError{Code: codeTooLarge, Message: msg, Field: field}, false
	case errors.Is(err, quarry.ErrInvalid):
		return &apiError{Code: codeInvalid, Message: msg, Field: field}, false
	case errors.Is(err, quarry.ErrForbidden):
		return &apiError{Code: codeForbidden, Message: msg, Field: field}, false
	case errors.Is(err, quarry.ErrUnavailable):
		return &apiError{Code: codeUnavailable, Message: msg}, false
	case errors.Is(err, quarry.ErrNotFound):
		return &apiError{Code: codeNotFound, Message: msg}, false
	case errors.Is(err, quarry.ErrClosed):
		return &apiError{Code: codeUnavailable, Message: "the engine is closed"}, false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{Code: codeUnavailable, Message: "the request was cancelled or timed out"}, false
	case errors.Is(err, quarry.ErrUpstream):
		// The upstream's URL and answer stay in the log.
		return &apiError{Code: codeUpstream, Message: "the collection's embedding server failed or is unreachable; see the server log"}, true
	case errors.Is(err, quarry.ErrCorrupt):
		return &apiError{Code: codeInternal, Message: "stored data failed an integrity check; see the server log"}, true
	}
	return &apiError{Code: codeInternal, Message: "internal error; see the server log"}, true
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
	// Sources are the retrieval results of an answer whose language
	// model failed (llm_failed, llm_timeout).
	Sources []hitOut `json:"sources,omitempty"`
}

// sourcesError carries the retrieval results of a failed answer to the
// error response.
type sourcesError struct {
	err     error
	sources []hitOut
}

func (e *sourcesError) Error() string { return e.err.Error() }
func (e *sourcesError) Unwrap() error { return e.err }

// withSources attaches ans's sources, if any, to err.
func withSources(err error, ans *quarry.Answer) error {
	if err == nil || ans == nil || len(ans.Sources) == 0 {
		return err
	}
	return &sourcesError{err: err, sources: fromHits(ans.Sources)}
}

// sourcesOf returns the sources attached to err, or nil.
func sourcesOf(err error) []hitOut {
	var se *sourcesError
	if errors.As(err, &se) {
		return se.sources
	}
	return nil
}

// renameFields rewrites the field an error names, for routes whose
// request fields are not the engine's (a chat's history is its messages).
func renameFields(err error, rename func(string) string) error {
	var ae *apiError
	if errors.As(err, &ae) {
		if f := rename(ae.Field); f != ae.Field {
			return &apiError{Code: ae.Code, Message: ae.Message, Field: f}
		}
		return err
	}
	var fe *quarry.FieldError
	if errors.As(err, &fe) {
		if f := rename(fe.Field); f != fe.Field {
			return &quarry.FieldError{Field: f, Msg: fe.Msg, Err: fe.Err}
		}
	}
	return err
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Score is the prompt-injection score of a refused question
	// (code prompt_injection).
	Score *float64 `json:"score,omitempty"`
}
