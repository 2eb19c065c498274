package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
)

// DefaultFetchTimeout bounds a whole download when FetchOptions.Client is
// nil.
const DefaultFetchTimeout = 2 * time.Minute

// FetchOptions control StreamURL. A nil *FetchOptions means defaults.
type FetchOptions struct {
	// Client makes the request. Default: a client with DefaultFetchTimeout
	// for the whole exchange and at most 5 redirects.
	Client *http.Client
	// Dir holds the temporary copy of the body (see StreamReader).
	// Default os.TempDir().
	Dir string
}

// IsURL reports whether s is an http or https URL (what StreamURL fetches).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// StreamURL downloads rawURL (http or https only) and loads the body as
// StreamReader does, with the URL as document id and source. The loader
// comes from the response's Content-Type, else from the URL path's
// extension; a body no loader reads fails with ErrUnsupported naming the
// type. The body is bounded like any stream (see StreamReader), a declared
// Content-Length above the bound fails before reading, and a non-2xx
// status is an error naming it.
func StreamURL(ctx context.Context, rawURL string, fopts *FetchOptions, opts *Options, fn func(base.Document) error) error {
	o, err := resolve(opts)
	if err != nil {
		return err
	}
	var fo FetchOptions
	if fopts != nil {
		fo = *fopts
	}
	if fo.Client == nil {
		fo.Client = &http.Client{
			Timeout: DefaultFetchTimeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return fmt.Errorf("more than 5 redirects")
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
				}
				return nil
			},
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("ingest: %q is not an http or https URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	req.Header.Set("User-Agent", "quarry-ingest")
	resp, err := fo.Client.Do(req)
	if err != nil {
		return fmt.Errorf("ingest: fetch %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("ingest: fetch %s: HTTP %s", rawURL, resp.Status)
	}
	src := Source{Name: rawURL, Ext: ExtForContentType(resp.Header.Get("Content-Type"))}
	if src.Ext == "" {
		src.Ext = strings.ToLower(path.Ext(u.Path))
	}
	if !SupportedSource(src) {
		err := fmt.Errorf("%s: %w: Content-Type %q", rawURL, ErrUnsupported, resp.Header.Get("Content-Type"))
		if o.skip(err) {
			return nil
		}
		return err
	}
	if limit := o.maxSpool(src.ext()); resp.ContentLength > limit {
		err := fmt.Errorf("%s: %w: Content-Length %d, limit %d", rawURL, ErrTooLarge, resp.ContentLength, limit)
		if o.skip(err) {
			return nil
		}
		return err
	}
	return StreamReader(ctx, resp.Body, src, fo.Dir, o, fn)
}
