package base

import (
	"errors"
	"fmt"
)

// Sentinel errors of the product API. The root package re-exports them
// (quarry.ErrNotFound is ErrNotFound), so a stage below it can return an
// error the server maps to an HTTP status without importing the root.
var (
	// ErrNotFound: the collection or document does not exist.
	ErrNotFound = errors.New("quarry: not found")
	// ErrInvalid: the request or document is malformed. Errors that name a
	// field are *FieldError values wrapping ErrInvalid.
	ErrInvalid = errors.New("quarry: invalid argument")
	// ErrTooLarge: a document or request exceeds a configured size limit.
	ErrTooLarge = errors.New("quarry: too large")
	// ErrClosed: the engine has been closed.
	ErrClosed = errors.New("quarry: closed")
	// ErrCorrupt: on-disk data failed a checksum or could not be decoded.
	ErrCorrupt = errors.New("quarry: corrupt data")
	// ErrForbidden: a scoped write touched a document outside its scope.
	ErrForbidden = errors.New("quarry: forbidden")
	// ErrUpstream: a server the engine depends on (an HTTP embedding
	// server) failed or could not be reached.
	ErrUpstream = errors.New("quarry: upstream server failed")
)

// FieldError names the field of a request or document that is invalid.
// It wraps ErrInvalid (or ErrTooLarge for size limits).
type FieldError struct {
	Field string // JSON path, e.g. "documents[3].text"
	Msg   string
	Err   error // ErrInvalid unless said otherwise
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", e.kind(), e.Msg)
	}
	return fmt.Sprintf("%v: %s: %s", e.kind(), e.Field, e.Msg)
}

func (e *FieldError) kind() error {
	if e.Err == nil {
		return ErrInvalid
	}
	return e.Err
}

// Unwrap returns the sentinel the error wraps.
func (e *FieldError) Unwrap() error { return e.kind() }

// Invalidf returns a *FieldError wrapping ErrInvalid.
func Invalidf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// TooLarge returns a *FieldError wrapping ErrTooLarge.
func TooLarge(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrTooLarge}
}
