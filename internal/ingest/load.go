package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

// titleMaxRunes bounds a title taken from a document's first line; a longer
// first line is prose, not a title.
const titleMaxRunes = 100

var loaders = map[string]func(ctx context.Context, path string, o *Options) (base.Document, error){
	".txt":      loadText,
	".md":       loadMarkdown,
	".markdown": loadMarkdown,
	".html":     loadHTML,
	".htm":      loadHTML,
	".pdf":      loadPDF,
	".docx":     loadDOCX,
	".pptx":     loadPPTX,
	".xlsx":     loadXLSX,
	".epub":     loadEPUB,
	".csv":      loadCSV,
	".tsv":      loadTSV,
}

// Supported reports whether LoadFile has a loader for path's extension
// (matched case-insensitively).
func Supported(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	_, ok := loaders[ext]
	return ok || ext == ".jsonl"
}

// LoadFile loads the documents in the file at path, choosing the loader by
// extension: .txt, .md/.markdown, .html/.htm and .pdf give one document;
// .jsonl gives one per line (see StreamJSONL, which LoadFile uses, for the
// record format). A nil opts means defaults.
//
// Under the default Abort policy any bad document fails the whole call and
// no documents are returned. Under Skip, bad documents (content errors, see
// IsSkippable) are passed to opts.OnSkip and left out, so a skipped
// whole-file document yields (nil, nil).
//
// Whole-file documents get ID from the path (see Options.Root), Source =
// path, and a Title; JSONL records carry their own ids.
func LoadFile(ctx context.Context, path string, opts *Options) ([]base.Document, error) {
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	return loadExt(ctx, path, strings.ToLower(filepath.Ext(path)), o)
}

// loadExt is LoadFile with the loader picked by ext instead of path's
// extension.
func loadExt(ctx context.Context, path, ext string, o *Options) ([]base.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := path // what errors call the file
	if o.source != "" {
		name = o.source
	}
	if ext == ".jsonl" {
		return loadJSONLFile(ctx, path, o)
	}
	load, ok := loaders[ext]
	if !ok {
		err := fileErr(name, fmt.Errorf("%w: extension %q", ErrUnsupported, ext))
		if o.skip(err) {
			return nil, nil
		}
		return nil, err
	}
	doc, err := load(ctx, path, o)
	if err != nil {
		err = fileErr(name, err)
		if o.skip(err) {
			return nil, nil
		}
		return nil, err
	}
	return []base.Document{doc}, nil
}

func loadJSONLFile(ctx context.Context, path string, o *Options) ([]base.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	var docs []base.Document
	err = streamJSONL(ctx, f, path, o, jsonlStrict, func(d base.Document) error {
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return docs, nil
}

// readSource reads a whole file of at most max bytes.
func readSource(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > max {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), max)
		}
		size = fi.Size()
	}
	b, err := readAllHint(io.LimitReader(f, max+1), size)
	if err != nil {
		return nil, fmt.Errorf("ingest: read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// readAllHint is io.ReadAll starting with room for hint bytes (and one
// more, to meet EOF without growing): a reader whose size is known is read
// into one allocation instead of io.ReadAll's series of doublings from 512
// bytes (twice the file in garbage). hint is only a hint: more is read if
// there is more, and at most maxHint is allocated up front.
func readAllHint(r io.Reader, hint int64) ([]byte, error) {
	const maxHint = 64 << 20
	b := make([]byte, 0, min(max(hint, 511), maxHint)+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeText turns a text source into normalised UTF-8: the BOM is stripped,
// invalid UTF-8 is rejected (naming line and byte offset) or, when lossy,
// replaced by U+FFFD, and CRLF and lone CR become LF.
func decodeText(name string, raw []byte, lossy bool) (string, error) {
	skipped := 0
	if bytes.HasPrefix(raw, utf8BOM) {
		raw, skipped = raw[len(utf8BOM):], len(utf8BOM)
	}
	if !utf8.Valid(raw) {
		if !lossy {
			off := invalidUTF8Offset(raw)
			return "", &LineError{
				File: name,
				Line: bytes.Count(raw[:off], []byte{'\n'}) + 1,
				Err:  fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, off+skipped),
			}
		}
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	return normalizeNewlines(string(raw)), nil
}

// invalidUTF8Offset returns the offset of the first invalid UTF-8 sequence
// in b, or len(b).
func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// normalizeNewlines maps CRLF and lone CR to LF.
func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// isBlank reports whether s has no visible text.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// firstLineTitle returns the first non-empty line of text when it is short
// enough to be a title, else fallback.
func firstLineTitle(text, fallback string) string {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) <= titleMaxRunes {
			return line
		}
		break
	}
	return fallback
}

// wholeFile fills the fields every whole-file loader sets the same way and
// applies the checks every loader's output must pass.
func wholeFile(path string, o *Options, d base.Document) (base.Document, error) {
	if isBlank(d.Text) {
		return base.Document{}, ErrEmpty
	}
	if int64(len(d.Text)) > o.MaxDocBytes {
		return base.Document{}, fmt.Errorf("%w: %d bytes of text, limit %d", ErrTooLarge, len(d.Text), o.MaxDocBytes)
	}
	if o.source != "" {
		path = o.source
	}
	d.ID = o.docID(path)
	d.Source = path
	if d.Title == "" {
		d.Title = filepath.Base(path)
	}
	return d, nil
}

func loadText(_ context.Context, path string, o *Options) (base.Document, error) {
	raw, err := readSource(path, o.MaxDocBytes)
	if err != nil {
		return base.Document{}, err
	}
	d, err := textDoc(o.fileName(path), raw, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(path, o, d)
}

// textDoc extracts a plain-text document (without id and source).
func textDoc(name string, raw []byte, o *Options) (base.Document, error) {
	text, err := decodeText(name, raw, o.Lossy)
	if err != nil {
		return base.Document{}, err
	}
	return base.Document{Text: text, Title: firstLineTitle(text, filepath.Base(name))}, nil
}
