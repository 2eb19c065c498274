package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
)

// capListener bounds the open connections. Past the cap a connection is
// answered 503 (JSON, Retry-After) and closed at once, so that a flood of
// idle or slow connections cannot hold the server's file descriptors and
// the excess learns why instead of waiting in the accept queue.
type capListener struct {
	net.Listener
	max    int64
	open   atomic.Int64
	denied func()
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			if l.denied != nil {
				l.denied()
			}
			go refuse(c)
			continue
		}
		return &jsonErrorConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
	}
}

var busyResponse = func() []byte {
	body, _ := json.Marshal(errorBody{Error: errorDetail{Code: codeUnavailable, Message: "the server has too many open connections; retry shortly"}})
	body = append(body, '\n')
	return []byte(fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
}()

func refuse(c net.Conn) {
	c.Write(busyResponse) //nolint:errcheck // best effort on a refused connection
	c.Close()
}

// goPlainError matches the plain-text responses net/http writes on its own,
// before any handler runs (400 for a malformed request, 431 for headers
// over MaxHeaderBytes, 501 for an unsupported transfer encoding).
var goPlainError = regexp.MustCompile(`^HTTP/1\.1 (\d{3}) ([^\r\n]*)\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n([^\r\n]*)$`)

// jsonErrorConn rewrites net/http's own plain-text error responses as the
// API's JSON errors, so that every error a client sees has one shape.
type jsonErrorConn struct {
	net.Conn
	release func()
	once    sync.Once
}

func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if len(p) < 512 && (bytes.HasPrefix(p, []byte("HTTP/1.1 4")) || bytes.HasPrefix(p, []byte("HTTP/1.1 5"))) {
		if m := goPlainError.FindSubmatch(p); m != nil {
			status, _ := strconv.Atoi(string(m[1]))
			code := codeInvalid
			switch {
			case status == 431:
				code = codeTooLarge
			case status >= 500:
				code = codeUnavailable
			}
			msg := string(m[3])
			if msg == "" {
				msg = string(m[2])
			}
			body, _ := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: "net/http: " + msg}})
			body = append(body, '\n')
			out := fmt.Appendf(nil, "HTTP/1.1 %s %s\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", m[1], m[2], len(body), body)
			if _, err := c.Conn.Write(out); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

func (c *jsonErrorConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
