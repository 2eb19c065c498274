package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// fetcher downloads files over HTTP with retries and resumption.
type fetcher struct {
	client  *http.Client
	retries int
	backoff time.Duration
	logf    func(string, ...any)
}

// permanent marks errors that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// getJSON fetches url into memory (small API responses), with retries.
func (f *fetcher) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	var last error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			if err := f.sleep(ctx, attempt); err != nil {
				return nil, err
			}
		}
		b, err := f.getOnce(ctx, url, limit)
		if err == nil {
			return b, nil
		}
		last = err
		var p permanent
		if errors.As(err, &p) || ctx.Err() != nil {
			return nil, err
		}
		f.logf("hub: GET %s: %v (retrying)", url, err)
	}
	return nil, last
}

func (f *fetcher) getOnce(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, permanent{err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusErr(url, resp); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, permanent{fmt.Errorf("GET %s: response larger than %d bytes", url, limit)}
	}
	return b, nil
}

func statusErr(url string, resp *http.Response) error {
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return permanent{fmt.Errorf("GET %s: %w (HTTP 404)", url, ErrNotFound)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	default:
		return permanent{fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)}
	}
}

func (f *fetcher) sleep(ctx context.Context, attempt int) error {
	d := f.backoff << (attempt - 1)
	if d > 30*time.Second {
		d = 30 * time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// download fetches url into dst. Bytes already in dst+".part" are kept and
// the rest is requested with an HTTP Range; a dropped connection resumes the
// same way. When wantSHA is set the complete file must match it, otherwise
// the partial file is removed and ErrChecksum returned. dst is written only
// by renaming the verified .part file.
func (f *fetcher) download(ctx context.Context, url, dst, wantSHA string) error {
	part := dst + ".part"
	var last error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			if err := f.sleep(ctx, attempt); err != nil {
				return err
			}
		}
		done, err := f.downloadOnce(ctx, url, part)
		if err == nil && done {
			break
		}
		last = err
		var p permanent
		if errors.As(err, &p) || ctx.Err() != nil {
			return err
		}
		f.logf("hub: download %s: %v (retrying)", url, err)
		if attempt == f.retries {
			return fmt.Errorf("download %s: giving up after %d attempts: %w", url, attempt+1, last)
		}
	}
	if wantSHA != "" {
		got, _, err := fileSHA256(part)
		if err != nil {
			return err
		}
		if got != wantSHA {
			os.Remove(part)
			return fmt.Errorf("download %s: %w: sha256 %s, want %s", url, ErrChecksum, got, wantSHA)
		}
	}
	if err := syncFile(part); err != nil {
		return err
	}
	return os.Rename(part, dst)
}

// downloadOnce makes one request, appending to part. It reports whether
// the file is complete.
func (f *fetcher) downloadOnce(ctx context.Context, url, part string) (bool, error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, permanent{err}
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0 {
		// Either complete already or the .part is longer than the file.
		if total, ok := contentRangeTotal(resp.Header.Get("Content-Range")); ok && total == have {
			return true, nil
		}
		os.Remove(part)
		return false, fmt.Errorf("GET %s: range %d- not satisfiable; restarting", url, have)
	}
	if err := statusErr(url, resp); err != nil {
		return false, err
	}
	flags := os.O_CREATE | os.O_WRONLY
	var want int64 = -1
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			os.Remove(part)
			return false, fmt.Errorf("GET %s: unexpected Content-Range %q", url, resp.Header.Get("Content-Range"))
		}
		flags |= os.O_APPEND
		want = total
	default: // 200: the whole file
		flags |= os.O_TRUNC
		have = 0
		want = resp.ContentLength
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, permanent{err}
	}
	n, cerr := io.Copy(out, resp.Body)
	if err := out.Close(); err != nil && cerr == nil {
		cerr = err
	}
	if cerr != nil {
		return false, fmt.Errorf("GET %s: after %d bytes: %w", url, have+n, cerr)
	}
	if want >= 0 && have+n != want {
		return false, fmt.Errorf("GET %s: short body: %d of %d bytes", url, have+n, want)
	}
	return true, nil
}

// contentRange parses "bytes START-END/TOTAL".
func contentRange(h string) (start, total int64, ok bool) {
	var end int64
	if _, err := fmt.Sscanf(h, "bytes %d-%d/%d", &start, &end, &total); err != nil {
		return 0, 0, false
	}
	return start, total, true
}

func contentRangeTotal(h string) (int64, bool) {
	var total int64
	if _, err := fmt.Sscanf(h, "bytes */%d", &total); err != nil {
		return 0, false
	}
	return total, true
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
