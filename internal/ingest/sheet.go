package ingest

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/quarry-rag/quarry/internal/base"
)

// maxRecordBytes bounds one CSV record or spreadsheet row: a longer one is
// not a row of a table but a broken file, and fails with ErrTooLarge naming
// the line.
const maxRecordBytes = 1 << 20

func loadXLSX(ctx context.Context, p string, o *Options) (base.Document, error) {
	z, err := openOffice(p) // checks the container and its size before excelize reads it
	if err != nil {
		return base.Document{}, err
	}
	z.Close()
	f, err := os.Open(p)
	if err != nil {
		return base.Document{}, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	d, err := xlsxDoc(ctx, f, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(p, o, d)
}

// xlsxDoc reads every worksheet (github.com/xuri/excelize/v2, with its
// decompression limits set to ours): each sheet is a section headed by its
// name, each non-empty row a line of formatted cell values joined by
// " | ". Formulas contribute their cached values.
func xlsxDoc(ctx context.Context, r io.Reader, o *Options) (d base.Document, err error) {
	defer func() {
		if x := recover(); x != nil {
			d, err = base.Document{}, fmt.Errorf("%w: XLSX library panic: %v", ErrCorrupt, x)
		}
	}()
	x, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxUnzipBytes, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || strings.Contains(err.Error(), "encrypt") {
			return base.Document{}, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		if errors.Is(err, excelize.ErrOptionsUnzipSizeLimit) {
			return base.Document{}, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return base.Document{}, fmt.Errorf("%w: XLSX: %v", ErrCorrupt, err)
	}
	defer x.Close()
	var t textBuilder
	sheets := x.GetSheetList()
	for _, sheet := range sheets {
		rows, err := x.Rows(sheet)
		if err != nil {
			return base.Document{}, fmt.Errorf("%w: XLSX sheet %q: %v", ErrCorrupt, sheet, err)
		}
		t.heading(sheet, 1)
		line := 0
		for rows.Next() {
			line++
			if line%1024 == 0 {
				if err := ctx.Err(); err != nil {
					rows.Close()
					return base.Document{}, err
				}
			}
			cells, err := rows.Columns()
			if err != nil {
				rows.Close()
				return base.Document{}, fmt.Errorf("%w: XLSX sheet %q row %d: %v", ErrCorrupt, sheet, line, err)
			}
			if err := writeRecord(&t, cells, sheet, line, o); err != nil {
				rows.Close()
				return base.Document{}, err
			}
		}
		if err := rows.Close(); err != nil {
			return base.Document{}, fmt.Errorf("%w: XLSX sheet %q: %v", ErrCorrupt, sheet, err)
		}
		t.paraBreak()
	}
	d.Text, d.Sections = t.result()
	if props, err := x.GetDocProps(); err == nil && props != nil {
		d.Title = cleanText(collapseSpace(props.Title))
	}
	d.Metadata = base.Metadata{"sheets": base.Number(float64(len(sheets)))}
	return d, nil
}

// writeRecord writes one row, checking the row and document bounds.
func writeRecord(t *textBuilder, cells []string, name string, line int, o *Options) error {
	n := 0
	for i, c := range cells {
		c = cleanText(c)
		cells[i] = c
		n += len(c)
	}
	if n > maxRecordBytes {
		return &LineError{File: name, Line: line, Err: fmt.Errorf("%w: a row of %d bytes, limit %d", ErrTooLarge, n, maxRecordBytes)}
	}
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	writeRow(t, cells)
	if int64(t.b.Len()) > o.MaxDocBytes {
		return fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, o.MaxDocBytes)
	}
	return nil
}

func loadCSV(ctx context.Context, p string, o *Options) (base.Document, error) {
	return loadDelimited(ctx, p, ',', o)
}

func loadTSV(ctx context.Context, p string, o *Options) (base.Document, error) {
	return loadDelimited(ctx, p, '\t', o)
}

// loadDelimited loads a CSV (comma ',') or TSV ('\t') file. The separator
// comes from the loader, not from p's name: a stream spooled to disk
// (StreamFile) has a name of its own.
func loadDelimited(ctx context.Context, p string, comma rune, o *Options) (base.Document, error) {
	f, err := os.Open(p)
	if err != nil {
		return base.Document{}, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	d, err := csvDoc(ctx, f, o.fileName(p), comma, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(p, o, d)
}

// csvDoc reads a CSV (RFC 4180, quotes relaxed, ragged rows allowed) or TSV
// file as a table: one line per record, fields joined by " | ", the header
// first. The file must be UTF-8 (a BOM is dropped; Options.Lossy repairs).
// A record longer than maxRecordBytes fails with ErrTooLarge naming its
// line, before the whole record is held: the reader is bounded per line.
func csvDoc(ctx context.Context, r io.Reader, name string, comma rune, o *Options) (base.Document, error) {
	lr := &boundedLines{r: bufio.NewReaderSize(io.LimitReader(r, o.MaxDocBytes+1), 64<<10), max: maxRecordBytes}
	cr := csv.NewReader(lr)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var t textBuilder
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return base.Document{}, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := cr.FieldPos(0)
			if errors.Is(err, errLineTooLong) {
				return base.Document{}, &LineError{File: name, Line: lr.lines, Err: fmt.Errorf("%w: a line longer than %d bytes", ErrTooLarge, maxRecordBytes)}
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return base.Document{}, &LineError{File: name, Line: line, Err: fmt.Errorf("%w: CSV: %v", ErrCorrupt, err)}
		}
		if n == 1 && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
		}
		for i, f := range rec {
			if !o.Lossy && !utf8.ValidString(f) {
				line, _ := cr.FieldPos(i)
				return base.Document{}, &LineError{File: name, Line: line, Err: fmt.Errorf("%w in field %d", ErrInvalidUTF8, i+1)}
			}
		}
		line, _ := cr.FieldPos(0)
		if err := writeRecord(&t, rec, name, line, o); err != nil {
			return base.Document{}, err
		}
	}
	if lr.total > o.MaxDocBytes {
		return base.Document{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, o.MaxDocBytes)
	}
	var d base.Document
	d.Text, d.Sections = t.result()
	return d, nil
}

var errLineTooLong = errors.New("line too long")

// boundedLines passes bytes through, failing once a line (up to "\n") is
// longer than max, so that a file without line ends cannot grow one CSV
// record without limit. It counts lines for the error.
type boundedLines struct {
	r     *bufio.Reader
	max   int
	cur   int
	lines int
	total int64
}

func (b *boundedLines) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			b.lines++
			b.cur = 0
			continue
		}
		b.cur++
	}
	b.total += int64(n)
	if b.cur > b.max {
		b.lines++
		return n, errLineTooLong
	}
	return n, err
}
