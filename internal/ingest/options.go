package ingest

import (
	"fmt"
	"path/filepath"
	"strings"
)

// DefaultMaxDocBytes is the default for Options.MaxDocBytes.
const DefaultMaxDocBytes = 64 << 20

// ErrorPolicy says what a loader does with a document it cannot load.
type ErrorPolicy uint8

const (
	// Abort fails the whole file on the first bad document (the default).
	// LoadFile then returns no documents.
	Abort ErrorPolicy = iota
	// Skip reports the bad document through Options.OnSkip and goes on.
	// Only content errors (see IsSkippable) are skipped; I/O errors,
	// context cancellation and callback errors still abort.
	Skip
)

func (p ErrorPolicy) String() string {
	switch p {
	case Abort:
		return "abort"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("ErrorPolicy(%d)", uint8(p))
}

// Options control the loaders. A nil *Options is valid and means defaults.
type Options struct {
	// Root is the directory that document ids of whole-file documents (.txt,
	// .md, .html, .pdf) are made relative to, normally the root given to
	// Walk. Default "": the id is the path as given, cleaned and with
	// forward slashes. A path outside Root also keeps its cleaned path.
	Root string

	// MaxDocBytes bounds one document: the bytes read from a .txt, .md or
	// .html file, the text extracted from a PDF, and one JSONL line.
	// Default DefaultMaxDocBytes (64 MiB). Larger documents fail with
	// ErrTooLarge.
	MaxDocBytes int64

	// Lossy replaces invalid UTF-8 in .txt, .md and .html sources with
	// U+FFFD instead of failing with ErrInvalidUTF8. JSONL is data and is
	// always checked strictly. Default false.
	Lossy bool

	// OnError is the policy for bad documents. Default Abort.
	OnError ErrorPolicy

	// OnSkip, when set, receives every error skipped under OnError == Skip.
	// It is called synchronously from the loading goroutine.
	OnSkip func(err error)

	// source, when set, replaces the path as the id and Source of a
	// whole-file document (StreamReader loads streams from temporary
	// files).
	source string
	// spoolBase, when set, is the file name the loaders see instead of the
	// path's (titles that fall back to it, errors): StreamFile loads a
	// caller's spool whose own name means nothing, and gives it the name
	// StreamReader would have given its copy.
	spoolBase string
}

// fileName is the name loaders give the file at path.
func (o *Options) fileName(path string) string {
	if o.spoolBase != "" {
		return o.spoolBase
	}
	return path
}

// EnsureDefaults fills zero fields with their defaults and returns o; a nil
// receiver yields a new Options.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.MaxDocBytes == 0 {
		o.MaxDocBytes = DefaultMaxDocBytes
	}
	return o
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.MaxDocBytes < 0 {
		return fmt.Errorf("ingest: invalid options: MaxDocBytes %d < 0", o.MaxDocBytes)
	}
	if o.OnError != Abort && o.OnError != Skip {
		return fmt.Errorf("ingest: invalid options: unknown OnError %v", o.OnError)
	}
	return nil
}

// resolve copies opts (the caller's struct is never modified), validates it
// and applies defaults.
func resolve(opts *Options) (*Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o.EnsureDefaults(), nil
}

// skip applies the error policy to a content error: it reports err and
// returns true when the caller should go on without the document.
func (o *Options) skip(err error) bool {
	if o.OnError != Skip || !IsSkippable(err) {
		return false
	}
	if o.OnSkip != nil {
		o.OnSkip(err)
	}
	return true
}

// unlessSkipped is err, or nil when the Skip policy passes over it.
func (o *Options) unlessSkipped(err error) error {
	if o.skip(err) {
		return nil
	}
	return err
}

// docID derives a whole-file document's id from its path.
func (o *Options) docID(path string) string {
	if IsURL(path) {
		return path // a downloaded page keeps its URL
	}
	if o.Root != "" {
		if rel, err := filepath.Rel(o.Root, path); err == nil && rel != ".." &&
			!strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			if rel == "." {
				rel = filepath.Base(path)
			}
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Clean(path))
}
