// Package ingest turns sources into base.Document values: it owns the file
// loaders, the BEIR data set readers, the directory walk, the content hash
// and the CLI's progress bar. It does no chunking, language detection or
// storage; the engine does those with what this package returns.
//
// # Loaders
//
// LoadFile picks a loader by extension:
//
//   - .txt: the whole file; title = first non-empty line if at most 100
//     characters, else the file name.
//   - .md, .markdown: CommonMark + GFM tables (goldmark) rendered to plain
//     text: emphasis dropped, link and image text kept, code kept verbatim,
//     table rows flattened to "a | b" lines, list markers dropped. Headings
//     (ATX and setext) stay as lines and become Sections. A leading YAML
//     front matter block gives the title ("title:") and scalar metadata.
//   - .html, .htm: the text of <main>, else <article>, else <body>, without
//     script, style, noscript, nav, header, footer, aside, form, svg,
//     template (and a few more non-text elements, and hidden ones); blocks
//     become paragraphs, h1–h6 Sections, white space collapses except in
//     <pre>. A <meta charset> other than UTF-8 is honoured.
//   - .pdf: the text layer (github.com/ledongthuc/pdf), pages separated by
//     blank lines; metadata "pages". Password-protected files fail with
//     ErrEncrypted, files without text with ErrNoText, malformed ones (and
//     any panic in the library) with ErrCorrupt.
//   - .docx: the paragraphs of word/document.xml (runs joined, tracked
//     deletions and field codes left out); styles named "heading N" or
//     "Title" (looked up in styles.xml, so localised style ids work) and
//     outline levels become Sections; table rows become "a | b" lines;
//     the title is docProps/core.xml's dc:title.
//   - .pptx: slides in number order, each a Section headed by its title
//     placeholder (else "Slide N"), then its other paragraphs; metadata
//     "slides".
//   - .xlsx: every sheet (github.com/xuri/excelize/v2) as a Section named
//     after it, each non-empty row a line of formatted values joined by
//     " | "; metadata "sheets".
//   - .epub: the spine's XHTML documents in reading order, each converted
//     as HTML; the title is the package's dc:title. DRM fails with
//     ErrEncrypted.
//   - .csv, .tsv: one line per record, fields joined by " | ", the header
//     first; a record over 1 MiB fails with ErrTooLarge naming its line.
//   - .jsonl: one document per line, streamed; see StreamJSONL.
//
// The ZIP containers (DOCX, PPTX, XLSX, EPUB) are read entry by entry with
// a budget of 512 MiB inflated bytes per file, counted as they inflate, so
// a zip bomb fails with ErrTooLarge; an OLE compound file in their place (a
// password-protected Office file) fails with ErrEncrypted.
//
// StreamReader loads an upload or standard input the same way (JSONL
// streamed, other formats spooled to a temporary file, never held whole in
// memory) and StreamURL a downloaded URL, picking the loader from the
// Content-Type.
//
// All text is UTF-8 with "\n" line ends and no BOM. Invalid UTF-8 fails with
// ErrInvalidUTF8 naming the line and byte offset (Options.Lossy repairs it
// instead, except in JSONL, which is data). Documents with blank text fail
// with ErrEmpty; larger than Options.MaxDocBytes with ErrTooLarge. Sections
// are byte ranges of Document.Text that never overlap: each runs from its
// heading to the next heading.
//
// Errors: every content error wraps one sentinel (ErrUnsupported, …,
// ErrInvalidJSON) and names the file; line-oriented ones are *LineError.
// Options.OnError = Skip turns content errors into OnSkip callbacks.
//
// # Data sets
//
// IsBEIR, LoadBEIRCorpus, LoadBEIRQueries, LoadQrels and QrelsPath read the
// BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), which the
// XQuAD sets under $QUARRY_DATASETS share.
//
// # Concurrency
//
// Loaders, Walk and ContentHash keep no shared state: any number may run at
// once. Callbacks (fn, OnSkip) are called synchronously from the calling
// goroutine. Progress is safe for concurrent Add.
//
// # Caveats
//
//   - PDF text comes from glyph positions. Ligature code points are
//     spelled out and end-of-line hyphenation is joined; on pages that draw
//     their spaces as glyphs only gaps wider than 1.5 em add a space, since
//     such producers (groff) put kerning and justification gaps inside
//     words. Columns read in content-stream order, which is column order
//     for the producers tested (testdata/pdf/groff); a producer that draws
//     across columns line by line would interleave them, and fonts without
//     width tables or ToUnicode maps may lose spaces or characters. We
//     compared github.com/klippa-app/go-pdfium (PDFium in WebAssembly) on
//     the same files: after the fixes above both give the same words, and
//     PDFium costs 17–22 s of start-up (compiling the module, on a loaded
//     machine) and a much larger binary, so ledongthuc/pdf stays. The PDF library reads
//     the whole page tree eagerly and has no memory limits for compressed
//     streams; we bound the page tree walk, recover its panics and check
//     the context between pages, but a hostile file can still cost memory.
//   - Front matter is a "key: value" reader, not a YAML parser.
//   - Walk follows symlinked directories only on request, skipping loops;
//     a directory reachable by two non-looping links is visited twice.
//
// The HTML and Markdown renderers, the front matter reader, the glob
// matcher and the hash encoding are written here rather than imported: each
// is small, and the libraries for them bring either much more than is used
// or output we would post-process anyway.
package ingest
