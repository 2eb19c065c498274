package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

// jsonlMode selects the record rules of one JSONL flavour.
type jsonlMode uint8

const (
	// jsonlStrict: the document format of StreamJSONL.
	jsonlStrict jsonlMode = iota
	// jsonlBEIR: BEIR corpora. Non-scalar metadata values are dropped and a
	// record with a title but no text uses its title as text, as BEIR's own
	// evaluation indexes "title text".
	jsonlBEIR
)

// StreamJSONL reads JSON Lines documents from r and passes each to fn, in
// order, without holding more than one line in memory. name is used in
// errors and as the default Source. A nil opts means defaults.
//
// Each non-blank line is one object:
//
//	{"id":"d1","title":"…","text":"…","tenant":"…","acl":["…"],
//	 "source":"…","language":"en","metadata":{"year":2020}}
//
// "_id" (BEIR) is accepted for "id"; ids may be strings or integers. "id"
// and "text" are required. Any other top-level key with a scalar value
// (string, number, bool) goes into Metadata, and so do the scalars in
// "metadata", which win over a top-level key of the same name; nulls are
// dropped. Text has a BOM stripped and CRLF/CR normalised to LF. Source
// defaults to name.
//
// A line that is not valid JSON, lacks id or text, has a non-scalar
// metadata value or a value of the wrong type fails with ErrInvalidJSON; a
// line with invalid UTF-8 with ErrInvalidUTF8; a line longer than
// MaxDocBytes with ErrTooLarge; a blank text with ErrEmpty. These come as a
// *LineError naming name and the line number. Under Abort (the default) the
// first one ends the stream — documents before it have already been passed
// to fn; use LoadFile for all-or-nothing. Under Skip it goes to
// opts.OnSkip and reading continues.
//
// An error returned by fn stops the stream and is returned unchanged. The
// context is checked between lines.
func StreamJSONL(ctx context.Context, r io.Reader, name string, opts *Options, fn func(base.Document) error) error {
	o, err := resolve(opts)
	if err != nil {
		return err
	}
	return streamJSONL(ctx, r, name, o, jsonlStrict, fn)
}

func streamJSONL(ctx context.Context, r io.Reader, name string, o *Options, mode jsonlMode, fn func(base.Document) error) error {
	lr := newLineReader(r, o.MaxDocBytes)
	for {
		if lr.line&63 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := lr.next()
		if err == io.EOF {
			return ctx.Err()
		}
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				return fmt.Errorf("ingest: read %s: %w", name, err)
			}
			err = &LineError{File: name, Line: lr.line, Err: err}
			if o.skip(err) {
				continue
			}
			return err
		}
		if isBlankBytes(line) {
			continue
		}
		d, err := decodeRecord(line, mode)
		if err != nil {
			err = &LineError{File: name, Line: lr.line, Err: err}
			if o.skip(err) {
				continue
			}
			return err
		}
		if d.Source == "" {
			d.Source = name
		}
		if err := fn(d); err != nil {
			return err
		}
	}
}

// lineReader yields lines of at most max bytes (without the line ending),
// discarding the rest of longer lines and reporting them as ErrTooLarge.
type lineReader struct {
	br   *bufio.Reader
	max  int64
	buf  []byte
	line int // number of the line last returned
}

func newLineReader(r io.Reader, max int64) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	tooLong := false
	var n int64
	for {
		frag, err := l.br.ReadSlice('\n')
		n += int64(len(frag))
		if !tooLong {
			if n-2 > l.max { // room for "\r\n"
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == io.EOF && n == 0 {
			return nil, io.EOF
		}
		l.line++
		if l.line == 1 {
			l.buf = bytes.TrimPrefix(l.buf, utf8BOM)
		}
		line := bytes.TrimSuffix(l.buf, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if tooLong || int64(len(line)) > l.max {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrTooLarge, l.max)
		}
		return line, nil
	}
}

func isBlankBytes(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// decodeRecord parses one JSONL document record.
func decodeRecord(line []byte, mode jsonlMode) (base.Document, error) {
	if !utf8.Valid(line) {
		return base.Document{}, fmt.Errorf("%w at byte offset %d of the line", ErrInvalidUTF8, invalidUTF8Offset(line))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return base.Document{}, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if fields == nil {
		return base.Document{}, fmt.Errorf("%w: record is not an object", ErrInvalidJSON)
	}
	var d base.Document
	var id, idAlt string
	var haveText bool
	var err error
	var nested base.Metadata
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic errors
	for _, k := range keys {
		v := fields[k]
		switch k {
		case "id":
			id, err = jsonID(k, v)
		case "_id":
			idAlt, err = jsonID(k, v)
		case "text":
			var p *string
			p, err = jsonString(k, v)
			if p != nil {
				haveText, d.Text = true, *p
			}
		case "title":
			d.Title, err = jsonOptString(k, v)
		case "tenant":
			d.Tenant, err = jsonOptString(k, v)
		case "source":
			d.Source, err = jsonOptString(k, v)
		case "language":
			d.Language, err = jsonOptString(k, v)
		case "acl":
			if err = json.Unmarshal(v, &d.ACL); err != nil {
				err = fmt.Errorf("%w: \"acl\" must be a list of strings", ErrInvalidJSON)
			}
		case "metadata":
			nested, err = jsonMetadata(v, mode)
		default:
			var val base.Value
			if e := json.Unmarshal(v, &val); e != nil {
				if mode == jsonlBEIR && errors.Is(e, base.ErrValueType) {
					continue
				}
				err = fmt.Errorf("%w: field %q: %w", ErrInvalidJSON, k, base.ErrValueType)
			} else if val.Kind != base.KindNull {
				if d.Metadata == nil {
					d.Metadata = base.Metadata{}
				}
				d.Metadata[k] = val
			}
		}
		if err != nil {
			return base.Document{}, err
		}
	}
	switch {
	case id != "" && idAlt != "" && id != idAlt:
		return base.Document{}, fmt.Errorf("%w: \"id\" %q and \"_id\" %q differ", ErrInvalidJSON, id, idAlt)
	case id == "":
		id = idAlt
	}
	if id == "" {
		return base.Document{}, fmt.Errorf("%w: missing \"id\"", ErrInvalidJSON)
	}
	d.ID = id
	if len(nested) > 0 {
		if d.Metadata == nil {
			d.Metadata = make(base.Metadata, len(nested))
		}
		for k, v := range nested {
			d.Metadata[k] = v
		}
	}
	d.Title = strings.TrimSpace(d.Title)
	d.Text = normalizeNewlines(strings.TrimPrefix(d.Text, "\uFEFF"))
	if mode == jsonlBEIR && isBlank(d.Text) {
		d.Text, haveText = d.Title, haveText || d.Title != ""
	}
	if !haveText {
		return base.Document{}, fmt.Errorf("%w: missing \"text\"", ErrInvalidJSON)
	}
	if isBlank(d.Text) {
		return base.Document{}, fmt.Errorf("%w: document %q has blank text", ErrEmpty, id)
	}
	return d, nil
}

// jsonID decodes an id: a non-empty string or an integer literal.
func jsonID(k string, v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
		var n json.Number
		if err := json.Unmarshal(v, &n); err == nil {
			if _, err := n.Int64(); err == nil {
				return n.String(), nil
			}
		}
		return "", fmt.Errorf("%w: %q must be a string or an integer", ErrInvalidJSON, k)
	}
	s, err := jsonOptString(k, v)
	if err != nil {
		return "", fmt.Errorf("%w: %q must be a string or an integer", ErrInvalidJSON, k)
	}
	return s, nil
}

// jsonString decodes a string; null gives nil.
func jsonString(k string, v json.RawMessage) (*string, error) {
	var p *string
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, fmt.Errorf("%w: %q must be a string", ErrInvalidJSON, k)
	}
	return p, nil
}

// jsonOptString decodes a string; null gives "".
func jsonOptString(k string, v json.RawMessage) (string, error) {
	p, err := jsonString(k, v)
	if err != nil || p == nil {
		return "", err
	}
	return *p, nil
}

// jsonMetadata decodes the "metadata" object: scalars only, nulls dropped.
func jsonMetadata(v json.RawMessage, mode jsonlMode) (base.Metadata, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fmt.Errorf("%w: \"metadata\" must be an object", ErrInvalidJSON)
	}
	md := make(base.Metadata, len(raw))
	for k, r := range raw {
		var val base.Value
		if err := json.Unmarshal(r, &val); err != nil {
			if mode == jsonlBEIR && errors.Is(err, base.ErrValueType) {
				continue
			}
			return nil, fmt.Errorf("%w: metadata %q: %w", ErrInvalidJSON, k, base.ErrValueType)
		}
		if val.Kind != base.KindNull {
			md[k] = val
		}
	}
	return md, nil
}
