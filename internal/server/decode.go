package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readBody checks the Content-Type of a request that carries a JSON body and
// reads the body, refusing more than limit bytes. optional bodies may be
// empty (no Content-Type needed then); the result is nil.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, optional bool) ([]byte, error) {
	if optional && r.ContentLength == 0 {
		return nil, nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	if r.ContentLength > limit {
		return nil, &apiError{Code: codeTooLarge, Message: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)}
	}
	// The buffer grows with what arrives, never from the declared
	// Content-Length: a client declaring 100 MB and sending one byte costs
	// one byte.
	body := http.MaxBytesReader(w, r.Body, limit)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		var (
			mbe *http.MaxBytesError
			be  *busyError
		)
		if errors.As(err, &mbe) || errors.As(err, &be) {
			return nil, err // toAPIError makes them a 413 and a 503
		}
		return nil, invalid("", "reading the request body: %v", err)
	}
	if err := checkUTF8(buf.Bytes()); err != nil {
		return nil, err
	}
	if optional && len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// checkUTF8 refuses a body that is not valid UTF-8 or that escapes a lone
// UTF-16 surrogate (\ud800): encoding/json would silently turn either into
// U+FFFD, and two different raw ids would become one document.
func checkUTF8(b []byte) error {
	if !utf8.Valid(b) {
		at := 0
		for at < len(b) {
			r, n := utf8.DecodeRune(b[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return invalid("", "the request body is not valid UTF-8 (at %s)", position(b, int64(at)))
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if b[i] != 'u' {
			continue
		}
		hi, ok := hex4(b, i+1)
		if !ok {
			continue // malformed: the JSON decoder reports it
		}
		switch {
		case hi >= 0xDC00 && hi <= 0xDFFF:
			return invalid("", "the request body escapes a lone UTF-16 surrogate \\u%04x (at %s)", hi, position(b, int64(i-1)))
		case hi >= 0xD800 && hi <= 0xDBFF:
			lo, ok := hex4(b, i+7)
			if i+6 >= len(b) || b[i+5] != '\\' || b[i+6] != 'u' || !ok || lo < 0xDC00 || lo > 0xDFFF {
				return invalid("", "the request body escapes a lone UTF-16 surrogate \\u%04x (at %s)", hi, position(b, int64(i-1)))
			}
			i += 10
		default:
			i += 4
		}
	}
	return nil
}

// hex4 parses the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (int, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
	return int(v), err == nil
}

// checkContentType accepts application/json, with an optional utf-8
// charset: JSON is UTF-8 by definition (RFC 8259).
func checkContentType(ct string) error {
	if ct == "" {
		return &apiError{Code: codeUnsupportedMedia, Message: "Content-Type must be application/json (the header is missing)"}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &apiError{Code: codeUnsupportedMedia, Message: fmt.Sprintf("Content-Type must be application/json, got %q", ct)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &apiError{Code: codeUnsupportedMedia, Message: fmt.Sprintf("JSON must be UTF-8, got charset %q", cs)}
	}
	return nil
}

// readJSON reads a required request body of at most limit bytes and
// decodes it into v with decodeBody.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit, false)
	if err != nil {
		return err
	}
	return decodeBody(body, v)
}

// decodeBody decodes a request body, which must be one JSON object and
// nothing after it, into v. Unknown fields are rejected. Errors are
// *apiError values naming the field (a JSON path) and, for malformed JSON,
// the line, column and byte offset.
func decodeBody(data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return invalid("", "the request body is empty; expected a JSON object")
	}
	if trimmed[0] != '{' {
		off := int64(len(data) - len(trimmed))
		if json.Valid(data) {
			return invalid("", "the request body must be a JSON object, got %s", jsonKind(trimmed[0]))
		}
		return invalid("", "malformed JSON at %s: expected a JSON object", position(data, off))
	}
	return decodeStrict(data, v, "")
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// decodeStrict decodes one JSON value from data into v, rejecting unknown
// fields and trailing data. Errors name fields as JSON paths under prefix.
// Types with their own UnmarshalJSON (nested objects that must also be
// strict) call it with the path of their value; their *apiError results come
// back through here and get this level's prefix.
func decodeStrict(data []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(data, err, prefix)
	}
	off := dec.InputOffset()
	if rest := bytes.TrimLeft(data[off:], " \t\r\n"); len(rest) > 0 {
		at := int64(len(data) - len(rest))
		return invalid(prefix, "unexpected data after the JSON value at %s", position(data, at))
	}
	return nil
}

func decodeError(data []byte, err error, prefix string) error {
	var (
		ae  *apiError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &ae):
		return &apiError{Code: ae.Code, Message: ae.Message, Field: joinPath(prefix, ae.Field)}
	case errors.As(err, &se):
		// Offset counts the offending byte; point at it.
		return invalid(prefix, "malformed JSON at %s: %s", position(data, se.Offset-1), se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid(prefix, "malformed JSON at %s: unexpected end of input", position(data, int64(len(data))))
	case errors.As(err, &ute):
		f := joinPath(prefix, stripEmbedded(ute.Field))
		what := "value"
		if ute.Value != "" {
			what = ute.Value
		}
		if prefix == "" {
			return invalid(f, "must be %s, got %s (at %s)", typeName(ute.Type.Kind().String()), what, position(data, ute.Offset))
		}
		return invalid(f, "must be %s, got %s", typeName(ute.Type.Kind().String()), what)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return invalid(joinPath(prefix, name), "unknown field")
	}
	return invalid(prefix, "%v", err)
}

// embeddedStructs are the wire types embedded in request types: their
// fields are promoted, so their Go names are no part of a JSON path, but
// encoding/json's type errors name them (decodingIn.seed).
var embeddedStructs = map[string]bool{"decodingIn": true, "scopeIn": true, "documentIn": true}

// stripEmbedded removes the embedded struct names from a type error's
// field path.
func stripEmbedded(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if !embeddedStructs[p] {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

// typeName turns a Go kind into the JSON type a client should send.
func typeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return "a " + kind
}

// position formats a byte offset as "line L, column C (byte B)"; lines and
// columns count from 1, columns in bytes.
func position(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}

// joinPath joins JSON path segments: "documents[3]" + "text" →
// "documents[3].text".
func joinPath(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}

// decodeList decodes a JSON array strictly, element by element, so that an
// error names its element (name[3].field). what describes the expected
// value for the error when b is not an array. null decodes to nil.
func decodeList[T any](b []byte, name, what string) ([]T, error) {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, invalid(name, "must be %s", what)
	}
	out := []T{}
	for i := 0; dec.More(); i++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, decodeError(b, err, fmt.Sprintf("%s[%d]", name, i))
		}
		out = append(out, v)
	}
	return out, nil
}
