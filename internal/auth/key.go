package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of Authenticate and the parsers. They are deliberately coarse:
// a client learns that its key was refused, the server log and metrics
// learn why.
var (
	ErrNoKey     = errors.New("auth: no API key")
	ErrMalformed = errors.New("auth: malformed API key")
	ErrUnknown   = errors.New("auth: unknown API key")
	ErrExpired   = errors.New("auth: expired API key")
	ErrRevoked   = errors.New("auth: revoked API key")
	ErrInvalid   = errors.New("auth: invalid")
)

// Role is what a key may do. Roles are ordered: each includes the ones
// below it.
type Role uint8

const (
	// RoleRead searches, asks and reads documents in the key's scope.
	RoleRead Role = iota + 1
	// RoleWrite also writes and deletes documents in the key's scope.
	RoleWrite
	// RoleAdmin also creates collections, reads /metrics, and may act for
	// any tenant and principals named in a request.
	RoleAdmin
)

// String returns the role's name: read, write or admin.
func (r Role) String() string {
	switch r {
	case RoleRead:
		return "read"
	case RoleWrite:
		return "write"
	case RoleAdmin:
		return "admin"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ParseRole parses read, write or admin.
func ParseRole(s string) (Role, error) {
	switch s {
	case "read":
		return RoleRead, nil
	case "write":
		return RoleWrite, nil
	case "admin":
		return RoleAdmin, nil
	}
	return 0, fmt.Errorf("%w: role %q (want read, write or admin)", ErrInvalid, s)
}

// MarshalText and UnmarshalText store a role by name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	*r = v
	return err
}

// Rate is a token bucket: PerSecond requests per second sustained, Burst at
// once. The zero Rate means unlimited.
type Rate struct {
	PerSecond float64 `json:"per_second,omitempty"`
	Burst     int     `json:"burst,omitempty"`
}

// Unlimited reports whether r sets no limit.
func (r Rate) Unlimited() bool { return r.PerSecond <= 0 }

// String formats r as ParseRate reads it.
func (r Rate) String() string {
	if r.Unlimited() {
		return "unlimited"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', -1, 64) + "/s"
}

// ParseRate parses "N/s", "N/m" or "N/h" (N > 0). The burst is the
// per-second rate rounded up, at least 1.
func ParseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(s, "/")
	v, err := strconv.ParseFloat(n, 64)
	if !ok || err != nil || !(v > 0) || v > 1e6 || math.IsInf(v, 0) {
		return Rate{}, fmt.Errorf("%w: rate %q (want N/s, N/m or N/h with N > 0)", ErrInvalid, s)
	}
	switch unit {
	case "s":
	case "m":
		v /= 60
	case "h":
		v /= 3600
	default:
		return Rate{}, fmt.Errorf("%w: rate %q: unit must be s, m or h", ErrInvalid, s)
	}
	return Rate{PerSecond: v, Burst: max(1, int(math.Ceil(v)))}, nil
}

// Key is one API key's record. It never holds the secret.
type Key struct {
	ID         string    `json:"id"`
	Tenant     string    `json:"tenant"`
	Principals []string  `json:"principals"`
	Role       Role      `json:"role"`
	Rate       Rate      `json:"rate"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires,omitzero"`
	Revoked    time.Time `json:"revoked,omitzero"`
	// Hash is hex SHA-256 of the secret's random part.
	Hash string `json:"hash"`
}

// Allows reports whether k's role includes r.
func (k *Key) Allows(r Role) bool { return k.Role >= r }

// Token format: prefix + id + "_" + secret.
const (
	prefix    = "qk_"
	idBytes   = 8
	idLen     = 2 * idBytes
	secretLen = 43 // base64url (no padding) of 32 bytes
	tokenLen  = len(prefix) + idLen + 1 + secretLen
	// MaxHeaderLen bounds the Authorization header ParseBearer reads.
	MaxHeaderLen = 256
)

// newSecret returns a fresh key id and token.
func newSecret() (id, token string, hash string, err error) {
	var raw [idBytes + 32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", "", fmt.Errorf("auth: reading random bytes: %w", err)
	}
	id = hex.EncodeToString(raw[:idBytes])
	secret := base64.RawURLEncoding.EncodeToString(raw[idBytes:])
	return id, prefix + id + "_" + secret, hashSecret(secret), nil
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ParseToken splits a token into its key id and secret. It checks the
// shape only; Authenticate checks the secret.
func ParseToken(token string) (id, secret string, err error) {
	if len(token) != tokenLen || !strings.HasPrefix(token, prefix) || token[len(prefix)+idLen] != '_' {
		return "", "", ErrMalformed
	}
	id = token[len(prefix) : len(prefix)+idLen]
	secret = token[len(prefix)+idLen+1:]
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", "", ErrMalformed
		}
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return "", "", ErrMalformed
		}
	}
	return id, secret, nil
}

// ParseBearer returns the token of an "Authorization: Bearer TOKEN"
// header value: the scheme is case-insensitive, separated by one or more
// spaces, and the token is the rest without surrounding spaces. An empty
// header is ErrNoKey; anything else that is not a bearer token is
// ErrMalformed. Headers longer than MaxHeaderLen are refused unread.
func ParseBearer(h string) (string, error) {
	if h == "" {
		return "", ErrNoKey
	}
	if len(h) > MaxHeaderLen || !utf8.ValidString(h) {
		return "", ErrMalformed
	}
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformed
	}
	tok := strings.Trim(rest, " ")
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", ErrMalformed
	}
	return tok, nil
}

// checkSecret compares secret with a stored hex hash in constant time.
func checkSecret(secret, hash string) bool {
	got := hashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}
