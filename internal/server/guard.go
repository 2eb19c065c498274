package server

// The security boundary in front of the routes: Host checking, API keys,
// roles, per-key rate limits, the concurrency limit, bounded body reading
// and refused query parameters. ServeHTTP runs it for every request before
// the mux, so a route added later is protected by default; openRoutes is
// the explicit list of routes that need no key.

import (
	"github.com/quarry-rag/quarry/internal/tools"

	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/quarry-rag/quarry/internal/auth"
)

// openRoutes need no API key: probes, the API description and the web UI
// (which asks for a key itself). /metrics needs admin once keys exist.
var openRoutes = map[string]bool{
	"GET /healthz":       true,
	"GET /readyz":        true,
	"GET /openapi.json":  true,
	"GET /{$}":           true,
	"GET /static/{name}": true,
}

// hostExempt routes answer whatever the Host: orchestrators probe them by
// IP address.
var hostExempt = map[string]bool{"GET /healthz": true, "GET /readyz": true}

// routeRoles is the role each route needs. A route not listed needs read
// for GET and admin for any other method, so a new route is closed until
// it says otherwise.
var routeRoles = map[string]auth.Role{
	"GET /metrics":                                 auth.RoleAdmin,
	"PUT /v1/collections/{c}":                      auth.RoleAdmin,
	"POST /v1/collections/{c}/documents":           auth.RoleWrite,
	"PUT /v1/collections/{c}/documents/{id...}":    auth.RoleWrite,
	"DELETE /v1/collections/{c}/documents/{id...}": auth.RoleWrite,
	"POST /v1/collections/{c}/search":              auth.RoleRead,
	"POST /v1/collections/{c}/ask":                 auth.RoleRead,
	"POST /v1/chat/completions":                    auth.RoleRead,
	"GET /v1/collections/{c}/documents/{id...}":    auth.RoleRead,
	"GET /v1/collections":                          auth.RoleRead,
	"GET /v1/collections/{c}":                      auth.RoleRead,
	"GET /v1/models":                               auth.RoleRead,
	"GET /v1/models/{model}":                       auth.RoleRead,
	"POST /v1/feedback":                            auth.RoleRead,  // any caller may rate an answer it was given
	"GET /v1/feedback":                             auth.RoleAdmin, // the export holds every caller's questions
	"POST /v1/collections/{c}/files":               auth.RoleWrite, // scoped like any write (StreamOptions.Write)
	"GET /v1/collections/{c}/documents":            auth.RoleRead,  // listed within the key's scope
	"GET /v1/collections/{c}/export":               auth.RoleAdmin, // every tenant's documents
	"GET /v1/collections/{c}/backup":               auth.RoleAdmin, // every tenant's documents
	"POST /v1/collections/{c}/check":               auth.RoleAdmin, // holds the writer while it reads everything
	"POST /v1/embeddings":                          auth.RoleRead,
	// Agents and MCP: a read key runs them; the tools check the key's own
	// role (write tools need write) and scope on every call.
	"POST /v1/collections/{c}/agent":                auth.RoleRead,
	"POST /v1/agent/sessions":                       auth.RoleRead,
	"DELETE /v1/agent/sessions/{id}":                auth.RoleRead,
	"POST /mcp":                                     auth.RoleRead,
	"DELETE /mcp":                                   auth.RoleRead,
	"GET /v1/collections/{c}/drift":                 auth.RoleAdmin, // statistics over every tenant's queries
	"GET /v1/collections/{c}/drift/windows/{which}": auth.RoleAdmin, // holds sampled query embeddings
	// Evaluations read files on the server and ask without a tenant scope.
	"GET /v1/evals/datasets": auth.RoleAdmin,
	"POST /v1/evals":         auth.RoleAdmin,
	"GET /v1/evals":          auth.RoleAdmin,
	"GET /v1/evals/{id}":     auth.RoleAdmin,
	"DELETE /v1/evals/{id}":  auth.RoleAdmin,
}

// routeQuery lists the query parameters a route accepts; on the routes
// listed here (and in routeRoles) any other parameter is a 400.
var routeQuery = map[string][]string{
	"GET /v1/collections/{c}/documents/{id...}": {"chunks", "tenant", "principal"},
	"GET /v1/feedback":                          {"collection"},
	"GET /v1/collections/{c}/documents":         {"after", "limit", "tenant", "principal", "filter", "text"},
	"GET /v1/collections/{c}/export":            {"after", "limit", "tenant", "principal", "filter", "text"},
	"POST /v1/agent/sessions":                   {"tenant"},
	"DELETE /v1/agent/sessions/{id}":            {"tenant"},
}

func roleFor(pattern, method string) auth.Role {
	if r, ok := routeRoles[pattern]; ok {
		return r
	}
	if method == http.MethodGet || method == http.MethodHead {
		return auth.RoleRead
	}
	return auth.RoleAdmin
}

// loopbackHosts are the Host names allowed by default.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// guard holds the state of the boundary.
type guard struct {
	keys     *auth.Store // nil: no keys, the server is open
	hosts    map[string]bool
	anyHost  bool
	slots    chan struct{}
	failures prometheus.Counter
	denied   *prometheus.CounterVec

	// mu protects the following fields.
	mu struct {
		sync.Mutex
		perKey  map[string]*rate.Limiter // by key id
		perAddr map[string]*rate.Limiter // failed authentications by client address
	}
}

// Failed authentications a client address may make at once, and per second
// after that; beyond them it gets 429 without its key being looked at.
const (
	failBurst     = 20
	failPerSecond = 1
	maxAddrs      = 100_000 // the failure table is reset when it grows past this
)

func newGuard(o *Options, reg *prometheus.Registry) *guard {
	g := &guard{keys: o.Keys, hosts: map[string]bool{}, slots: make(chan struct{}, o.MaxConcurrent)}
	hosts := o.AllowHosts
	if hosts == nil {
		hosts = loopbackHosts
	}
	for _, h := range hosts {
		if h == "*" {
			g.anyHost = true
		}
		g.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	g.mu.perKey = map[string]*rate.Limiter{}
	g.mu.perAddr = map[string]*rate.Limiter{}
	g.failures = registerOrReuse(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "quarry_http_auth_failures_total",
		Help: "Requests refused for a missing, malformed, unknown, expired or revoked API key.",
	}))
	g.denied = registerOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quarry_http_denied_total",
		Help: "Requests refused by the boundary, by reason (host, auth, role, rate, busy, addr).",
	}, []string{"reason"}))
	return g
}

// authOn reports whether requests need a key: a key store that has held a
// key. A server with no keys runs open (the CLI allows that on loopback
// only).
func (g *guard) authOn() bool { return g.keys != nil && !g.keys.Empty() }

func (g *guard) hostAllowed(r *http.Request) bool {
	if g.anyHost {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return g.hosts[strings.ToLower(strings.Trim(host, "[]"))]
}

// keyCtx is the context key of the request's *auth.Key.
type keyCtx struct{}

// keyOf returns the key a request was made with, or nil (open server or
// open route).
func keyOf(r *http.Request) *auth.Key {
	k, _ := r.Context().Value(keyCtx{}).(*auth.Key)
	return k
}

// admits runs the boundary for a request routed to pattern. It returns the
// request to serve (with its key in the context) and a release function, or
// an error to answer instead.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, pattern string) (*http.Request, func(), error) {
	g := s.guard
	if !hostExempt[pattern] && !g.hostAllowed(r) {
		g.denied.WithLabelValues("host").Inc()
		return nil, nil, &apiError{Code: codeForbidden, Message: fmt.Sprintf("the Host %q is not one this server answers to (serve --allow-host); this protects against DNS rebinding", r.Host)}
	}
	if allowed, ok := routeQuery[pattern]; ok || routeRoles[pattern] != 0 {
		for name := range r.URL.Query() {
			if !slices.Contains(allowed, name) {
				return nil, nil, invalid(name, "unknown query parameter")
			}
		}
	}
	if !openRoutes[pattern] && g.authOn() {
		k, err := s.authenticate(w, r)
		if err != nil {
			return nil, nil, err
		}
		if need := roleFor(pattern, r.Method); !k.Allows(need) {
			g.denied.WithLabelValues("role").Inc()
			return nil, nil, &apiError{Code: codeForbidden, Message: fmt.Sprintf("this route needs a %s key; the key %s is %s", need, k.ID, k.Role)}
		}
		if err := g.rateLimit(w, k); err != nil {
			return nil, nil, err
		}
		r = r.WithContext(tools.WithScope(context.WithValue(r.Context(), keyCtx{}, k), toolScope(k)))
	}
	limit := s.opts.MaxBodyBytes
	if pattern == "POST /v1/collections/{c}/files" {
		limit = max(limit, defaultMaxUploadBytes) // uploads stream to disk; the handler bounds them again
	}
	if r.ContentLength > limit {
		return nil, nil, &apiError{Code: codeTooLarge, Message: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)}
	}
	if hostExempt[pattern] || pattern == "GET /metrics" {
		return r, func() {}, nil // probes are never queued behind work
	}
	var once sync.Once
	held := false
	release := func() {
		once.Do(func() {
			if held {
				<-g.slots
			}
		})
	}
	acquire := func() error {
		select {
		case g.slots <- struct{}{}:
			held = true
			return nil
		default:
			g.denied.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			return &apiError{Code: codeUnavailable, Message: fmt.Sprintf("the server is handling %d requests, its limit; retry shortly", cap(g.slots))}
		}
	}
	if r.Body == nil || r.Body == http.NoBody || (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		if err := acquire(); err != nil {
			return nil, nil, err
		}
		return r, release, nil
	}
	// A request with a body takes its slot once the body has arrived, so
	// that slow senders hold a connection (bounded by MaxConns and the read
	// timeout) but never a slot.
	r.Body = &boundedBody{rc: r.Body, left: limit, limit: limit, atEOF: acquire}
	return r, release, nil
}

// authenticate finds the request's key. Failures are counted and, past a
// burst, refused per client address without looking at the key.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*auth.Key, error) {
	g := s.guard
	addr := clientAddr(r)
	g.mu.Lock()
	lim := g.mu.perAddr[addr]
	g.mu.Unlock()
	if lim != nil && lim.Tokens() < 1 {
		g.denied.WithLabelValues("addr").Inc()
		retry := max(1, int(math.Ceil((1-lim.Tokens())/failPerSecond)))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		return nil, &apiError{Code: codeRateLimited, Message: "too many failed authentications from this address; retry later"}
	}
	h := r.Header.Get("Authorization")
	var (
		k   auth.Key
		err error
	)
	tok, err := auth.ParseBearer(h)
	if err == nil {
		k, err = g.keys.Authenticate(tok)
	}
	if err == nil {
		return &k, nil
	}
	g.failures.Inc()
	g.denied.WithLabelValues("auth").Inc()
	g.mu.Lock()
	if lim = g.mu.perAddr[addr]; lim == nil {
		if len(g.mu.perAddr) >= maxAddrs {
			g.mu.perAddr = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(failPerSecond, failBurst)
		g.mu.perAddr[addr] = lim
	}
	g.mu.Unlock()
	lim.Allow()
	w.Header().Set("WWW-Authenticate", `Bearer realm="quarry"`)
	msg := "this route needs an API key: send Authorization: Bearer <key> (quarry keys create)"
	switch {
	case errors.Is(err, auth.ErrNoKey):
	case errors.Is(err, auth.ErrMalformed):
		msg = "the Authorization header is not a Quarry API key (Authorization: Bearer qk_...)"
	default:
		msg = "the API key is unknown, revoked or expired"
	}
	return nil, &apiError{Code: codeUnauthenticated, Message: msg}
}

// clientAddr is the request's remote IP address (no port).
func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// rateLimit spends one token of k's bucket, or answers 429 with
// Retry-After.
func (g *guard) rateLimit(w http.ResponseWriter, k *auth.Key) error {
	if k.Rate.Unlimited() {
		return nil
	}
	g.mu.Lock()
	lim := g.mu.perKey[k.ID]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(k.Rate.PerSecond), max(1, k.Rate.Burst))
		g.mu.perKey[k.ID] = lim
	}
	g.mu.Unlock()
	if lim.Allow() {
		return nil
	}
	g.denied.WithLabelValues("rate").Inc()
	wait := time.Duration(float64(time.Second) / k.Rate.PerSecond)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
	return &apiError{Code: codeRateLimited, Message: fmt.Sprintf("the key %s is limited to %s", k.ID, k.Rate)}
}

// errBusy is returned by a body read when the body has arrived but no
// request slot is free.
type busyError struct{ e *apiError }

func (b *busyError) Error() string { return b.e.Error() }

// boundedBody reads at most limit bytes of a request body, never more, and
// never allocates from the declared Content-Length. At the end of the body
// it calls atEOF (which takes a request slot); its error is returned
// instead of io.EOF.
type boundedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	atEOF func() error
	done  bool
	err   error
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left <= 0 {
		// Over the limit unless the body ends exactly here.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.err = &http.MaxBytesError{Limit: b.limit}
			return 0, b.err
		}
		if err == io.EOF {
			return 0, b.eof()
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err == io.EOF {
		err = b.eof()
	}
	return n, err
}

func (b *boundedBody) eof() error {
	if !b.done {
		b.done = true
		if err := b.atEOF(); err != nil {
			var ae *apiError
			errors.As(err, &ae)
			b.err = &busyError{e: ae}
			return b.err
		}
	}
	return io.EOF
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// applyScope makes a read request's tenant and principals the key's. A
// non-admin key may narrow its principals but never name another tenant
// or a principal it does not hold; an admin key acts for whatever the
// request names (its own scope when the request names none).
func applyScope(r *http.Request, sc *scopeIn) error {
	k := keyOf(r)
	if k == nil {
		return nil
	}
	t, p, err := scopeOf(k, sc.Tenant, sc.Principals)
	sc.Tenant, sc.Principals = t, p
	return err
}

func scopeOf(k *auth.Key, tenant string, principals []string) (string, []string, error) {
	if k.Role == auth.RoleAdmin {
		if tenant == "" && principals == nil {
			return k.Tenant, slices.Clone(k.Principals), nil
		}
		return tenant, principals, nil
	}
	if tenant != "" && tenant != k.Tenant {
		return "", nil, &apiError{Code: codeForbidden, Field: "tenant", Message: "the key acts for its own tenant; only an admin key may name another"}
	}
	if principals == nil {
		return k.Tenant, slices.Clone(k.Principals), nil
	}
	for i, p := range principals {
		if !slices.Contains(k.Principals, p) {
			return "", nil, &apiError{Code: codeForbidden, Field: fmt.Sprintf("principals[%d]", i), Message: "is not one of the key's principals"}
		}
	}
	return k.Tenant, principals, nil
}
