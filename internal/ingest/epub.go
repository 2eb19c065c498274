package ingest

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
)

func loadEPUB(ctx context.Context, p string, o *Options) (base.Document, error) {
	z, err := openOffice(p)
	if err != nil {
		return base.Document{}, err
	}
	defer z.Close()
	d, err := epubDoc(ctx, z, o)
	if err != nil {
		return base.Document{}, err
	}
	return wholeFile(p, o, d)
}

// epubDoc reads an EPUB (2 or 3): META-INF/container.xml names the package
// document, whose spine lists the XHTML content documents in reading
// order. Each is converted as HTML; their texts are joined by blank lines
// and their sections shifted accordingly. The title is the package's
// dc:title. DRM-protected books (META-INF/encryption.xml naming content
// documents) fail with ErrEncrypted.
func epubDoc(ctx context.Context, z *zipArchive, o *Options) (base.Document, error) {
	raw, err := z.read(ctx, "META-INF/container.xml")
	if err != nil {
		return base.Document{}, fmt.Errorf("EPUB: %w", err)
	}
	opf := ""
	err = xmlTokens(ctx, raw, func(tok xml.Token) error {
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "rootfile" && opf == "" {
			opf = attr(e, "full-path")
		}
		return nil
	})
	if err != nil {
		return base.Document{}, fmt.Errorf("EPUB container: %w", err)
	}
	if opf == "" {
		return base.Document{}, fmt.Errorf("%w: EPUB container names no package document", ErrCorrupt)
	}
	raw, err = z.read(ctx, opf)
	if err != nil {
		return base.Document{}, fmt.Errorf("EPUB: %w", err)
	}
	var (
		title    strings.Builder
		inTitle  bool
		manifest = map[string]string{} // id → href
		spine    []string
	)
	err = xmlTokens(ctx, raw, func(tok xml.Token) error {
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "title":
				inTitle = title.Len() == 0
			case "item":
				manifest[attr(e, "id")] = attr(e, "href")
			case "itemref":
				if attr(e, "linear") != "no" {
					spine = append(spine, attr(e, "idref"))
				}
			}
		case xml.EndElement:
			inTitle = false
		case xml.CharData:
			if inTitle {
				title.Write(e)
			}
		}
		return nil
	})
	if err != nil {
		return base.Document{}, fmt.Errorf("EPUB package: %w", err)
	}
	if z.has("META-INF/encryption.xml") {
		if enc, err := z.read(ctx, "META-INF/encryption.xml"); err == nil && epubEncryptsContent(enc) {
			return base.Document{}, fmt.Errorf("%w: EPUB content is encrypted (DRM)", ErrEncrypted)
		}
	}
	dir := path.Dir(opf)
	var d base.Document
	var text strings.Builder
	seen := map[string]bool{}
	for _, id := range spine {
		href, ok := manifest[id]
		if !ok || seen[href] {
			continue
		}
		seen[href] = true
		name := epubPath(dir, href)
		part, err := z.read(ctx, name)
		if err != nil {
			return base.Document{}, fmt.Errorf("EPUB: %w", err)
		}
		hd, err := htmlDoc(name, part, o)
		if err != nil {
			return base.Document{}, fmt.Errorf("EPUB %s: %w", name, err)
		}
		if isBlank(hd.Text) {
			continue
		}
		if text.Len() > 0 {
			text.WriteString("\n\n")
		}
		off := text.Len()
		text.WriteString(hd.Text)
		for _, s := range hd.Sections {
			s.Start += off
			s.End += off
			d.Sections = append(d.Sections, s)
		}
		if int64(text.Len()) > o.MaxDocBytes {
			return base.Document{}, fmt.Errorf("%w: more than %d bytes of text", ErrTooLarge, o.MaxDocBytes)
		}
	}
	if len(spine) == 0 {
		return base.Document{}, fmt.Errorf("%w: EPUB without a spine", ErrCorrupt)
	}
	d.Text = text.String()
	d.Title = cleanText(collapseSpace(title.String()))
	return d, nil
}

// epubPath resolves a manifest href (URL-encoded, relative to the package
// document) to an entry name.
func epubPath(dir, href string) string {
	if u, err := url.PathUnescape(href); err == nil {
		href = u
	}
	href, _, _ = strings.Cut(href, "#")
	return path.Clean(path.Join(dir, href))
}

// epubEncryptsContent reports whether encryption.xml lists a content
// document (fonts are commonly obfuscated, which does not stop reading).
func epubEncryptsContent(raw []byte) bool {
	found := false
	_ = xmlTokens(context.Background(), raw, func(tok xml.Token) error {
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "CipherReference" {
			u := attr(e, "URI")
			if ext := strings.ToLower(path.Ext(u)); ext == ".xhtml" || ext == ".html" || ext == ".htm" {
				found = true
			}
		}
		return nil
	})
	return found
}
