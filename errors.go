package quarry

import (
	"errors"

	"github.com/quarry-rag/quarry/internal/base"
)

// Sentinel errors. Callers branch on them with errors.Is; the server maps
// them to HTTP status codes in one place. They are defined in internal/base
// so that the pipeline stages return them without importing this package.
var (
	// ErrNotFound: the collection or document does not exist.
	ErrNotFound = base.ErrNotFound
	// ErrInvalid: the request or document is malformed. Errors that name a
	// field are *FieldError values wrapping ErrInvalid.
	ErrInvalid = base.ErrInvalid
	// ErrTooLarge: a document or request exceeds a configured size limit.
	ErrTooLarge = base.ErrTooLarge
	// ErrClosed: the engine has been closed.
	ErrClosed = base.ErrClosed
	// ErrCorrupt: on-disk data failed a checksum or could not be decoded.
	ErrCorrupt = base.ErrCorrupt
	// ErrForbidden: a scoped write (WriteOptions.Scope) touched a document
	// outside its scope.
	ErrForbidden = base.ErrForbidden
	// ErrUpstream: a server the engine depends on (an HTTP embedding
	// server) failed or could not be reached.
	ErrUpstream = base.ErrUpstream
	// ErrUnavailable: the collection exists but its store could not be
	// opened (damaged on disk); the engine serves its other collections
	// (Engine.Unavailable lists the broken ones, DeleteCollection removes
	// one).
	ErrUnavailable = errors.New("quarry: collection unavailable")
)

// FieldError names the field of a request or document that is invalid.
// It wraps ErrInvalid (or ErrTooLarge for size limits).
type FieldError = base.FieldError

func invalidf(field, format string, args ...any) error {
	return base.Invalidf(field, format, args...)
}

// prefixField returns err with its field prefixed by prefix (for errors
// found inside one element of a batch).
func prefixField(prefix string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		f := prefix
		if fe.Field != "" {
			f += "." + fe.Field
		}
		return &FieldError{Field: f, Msg: fe.Msg, Err: fe.Err}
	}
	return err
}
