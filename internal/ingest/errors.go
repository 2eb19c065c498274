package ingest

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a loader returns for a problem with a source's
// content wraps exactly one of these (test with errors.Is); I/O errors and
// context errors are returned wrapped but otherwise as they come.
var (
	// ErrUnsupported: the file's extension has no loader.
	ErrUnsupported = errors.New("ingest: unsupported file type")
	// ErrInvalidUTF8: text that must be UTF-8 is not. The error says where.
	ErrInvalidUTF8 = errors.New("ingest: invalid UTF-8")
	// ErrEmpty: the document has no text after extraction.
	ErrEmpty = errors.New("ingest: empty document")
	// ErrTooLarge: a source or a JSONL line exceeds Options.MaxDocBytes.
	ErrTooLarge = errors.New("ingest: document too large")
	// ErrEncrypted: a PDF, Office file or EPUB needs a password or uses
	// encryption (DRM) we cannot read.
	ErrEncrypted = errors.New("ingest: encrypted file")
	// ErrNoText: a PDF opened fine but has no text layer (scanned images).
	ErrNoText = errors.New("ingest: PDF has no extractable text")
	// ErrCorrupt: a file could not be parsed (a malformed PDF, ZIP
	// container, XML part or CSV, including any panic raised inside the
	// PDF or XLSX library).
	ErrCorrupt = errors.New("ingest: corrupt file")
	// ErrInvalidJSON: a JSONL line is not a valid document record.
	ErrInvalidJSON = errors.New("ingest: invalid JSON record")
	// ErrInvalidQrels: a qrels line is not "query-id corpus-id score".
	ErrInvalidQrels = errors.New("ingest: invalid qrels line")
)

// LineError locates a problem on one line of a line-oriented source (a JSONL
// or qrels line, or the line holding an invalid UTF-8 sequence in a text
// file). Lines are counted from 1.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the underlying error, which wraps one of the sentinels.
func (e *LineError) Unwrap() error { return e.Err }

// contentErrors are the sentinels that describe one bad document rather than
// a failing reader; only these may be skipped under ErrorPolicy Skip.
var contentErrors = []error{
	ErrUnsupported, ErrInvalidUTF8, ErrEmpty, ErrTooLarge,
	ErrEncrypted, ErrNoText, ErrCorrupt, ErrInvalidJSON,
}

// IsSkippable reports whether err concerns a single bad document (one of the
// content sentinels) as opposed to an I/O failure, a cancelled context or an
// error returned by a callback.
func IsSkippable(err error) bool {
	for _, s := range contentErrors {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// fileErr names the file a content error came from. LineErrors already do.
func fileErr(path string, err error) error {
	var le *LineError
	if errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
