package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrNotAllowed is returned for a URL outside the policy.
var ErrNotAllowed = errors.New("outbound: URL not allowed by the operator")

// Policy is a set of allowed URL prefixes. The zero Policy allows nothing.
type Policy struct {
	prefixes []*url.URL
}

// New returns a policy allowing each of prefixes (absolute http or https
// URLs). Empty strings are skipped.
func New(prefixes ...string) (*Policy, error) {
	p := &Policy{}
	for _, s := range prefixes {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := parse(s)
		if err != nil {
			return nil, fmt.Errorf("outbound: allowed URL %q: %w", s, err)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		p.prefixes = append(p.prefixes, u)
	}
	return p, nil
}

// Split splits a list of prefixes separated by commas or white space, as
// QUARRY_ALLOW_URLS holds them.
func Split(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

func parse(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("scheme must be http or https")
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, errors.New("no host")
	}
	if u.User != nil {
		return nil, errors.New("user information in URLs is not allowed")
	}
	return u, nil
}

// Prefixes returns the allowed prefixes, for messages and logs.
func (p *Policy) Prefixes() []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p.prefixes))
	for i, u := range p.prefixes {
		out[i] = u.String()
	}
	return out
}

// Check returns nil if raw is allowed and an error wrapping ErrNotAllowed
// (or describing why raw is not a URL) otherwise.
func (p *Policy) Check(raw string) error {
	u, err := parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	if p != nil {
		for _, pre := range p.prefixes {
			if matches(pre, u) {
				return nil
			}
		}
	}
	return ErrNotAllowed
}

// Allowed reports whether Check(raw) is nil.
func (p *Policy) Allowed(raw string) bool { return p.Check(raw) == nil }

func matches(pre, u *url.URL) bool {
	if pre.Scheme != u.Scheme || !strings.EqualFold(pre.Hostname(), u.Hostname()) || port(pre) != port(u) {
		return false
	}
	if pre.Path == "" {
		return true
	}
	return u.Path == pre.Path || strings.HasPrefix(u.Path, pre.Path+"/")
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// SameOrigin reports whether a and b have the same scheme, host and port.
func SameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Host == "" || ub.Host == "" {
		return false
	}
	return ua.Scheme == ub.Scheme && strings.EqualFold(ua.Hostname(), ub.Hostname()) && port(ua) == port(ub)
}

// CheckRedirect follows at most 5 redirects, and only to the origin of the
// first request.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("outbound: stopped after 5 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Hostname(), first.Hostname()) || port(req.URL) != port(first) {
		return fmt.Errorf("outbound: refusing a redirect from %s to another host %s", first.Host, req.URL.Host)
	}
	return nil
}
