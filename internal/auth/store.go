package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// FileName is the key file's name in the data directory.
const FileName = "keys.json"

// ReloadEvery is how often, at most, Authenticate looks at the key file for
// changes made by another process.
const ReloadEvery = time.Second

// Limits of a key's scope.
const (
	MaxTenantBytes    = 256
	MaxPrincipals     = 64
	MaxPrincipalBytes = 256
)

const fileVersion = 1

type fileFormat struct {
	Version int    `json:"version"`
	Keys    []*Key `json:"keys"`
}

// Store is the key file of one data directory.
type Store struct {
	path string
	now  func() time.Time

	checked atomic.Int64 // unix nanos of the last change check

	// mu protects the following fields.
	mu struct {
		sync.RWMutex
		byID map[string]*Key
		keys []*Key // file order
		stat fileStamp
	}
}

// fileStamp identifies a version of the key file.
type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

// Open opens the key store of dataDir, creating nothing until the first
// key is made. A missing file is an empty store.
func Open(dataDir string) (*Store, error) {
	s := &Store{path: filepath.Join(dataDir, FileName), now: time.Now}
	if err := s.reload(true); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the key file's path.
func (s *Store) Path() string { return s.path }

// Len reports how many keys are active (neither revoked nor expired).
func (s *Store) Len() int {
	s.maybeReload()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	now := s.now()
	for _, k := range s.mu.keys {
		if k.Revoked.IsZero() && (k.Expires.IsZero() || now.Before(k.Expires)) {
			n++
		}
	}
	return n
}

// Empty reports whether the store has never held a key. A server with no
// keys at all may run open on loopback; once a key exists (even a revoked
// one) authentication is on.
func (s *Store) Empty() bool {
	s.maybeReload()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.mu.keys) == 0
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{mod: fi.ModTime(), size: fi.Size()}
	if sys, ok := fi.Sys().(*unix.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// maybeReload rereads the file if ReloadEvery has passed since the last
// check and the file changed. Errors keep the keys loaded before.
func (s *Store) maybeReload() {
	now := s.now().UnixNano()
	last := s.checked.Load()
	if now-last < int64(ReloadEvery) || !s.checked.CompareAndSwap(last, now) {
		return
	}
	_ = s.reload(false)
}

// reload reads the key file if it changed since it was last read.
func (s *Store) reload(force bool) error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.set(nil, fileStamp{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	st := stampOf(fi)
	s.mu.RLock()
	same := s.mu.stat == st
	s.mu.RUnlock()
	if same && !force {
		return nil
	}
	keys, err := readFile(s.path)
	if err != nil {
		return err
	}
	s.set(keys, st)
	return nil
}

func (s *Store) set(keys []*Key, st fileStamp) {
	by := make(map[string]*Key, len(keys))
	for _, k := range keys {
		by[k.ID] = k
	}
	s.mu.Lock()
	s.mu.keys, s.mu.byID, s.mu.stat = keys, by, st
	s.mu.Unlock()
}

func readFile(path string) ([]*Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	var f fileFormat
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("auth: %s is corrupt: %w", path, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("auth: %s has version %d, want %d", path, f.Version, fileVersion)
	}
	for i, k := range f.Keys {
		if _, _, err := ParseToken(prefix + k.ID + "_" + strings.Repeat("A", secretLen)); err != nil || len(k.Hash) != 64 || k.Role < RoleRead || k.Role > RoleAdmin {
			return nil, fmt.Errorf("auth: %s is corrupt: key %d", path, i)
		}
	}
	return f.Keys, nil
}

// Authenticate returns the key a token belongs to, or ErrMalformed,
// ErrUnknown, ErrExpired or ErrRevoked. The secret is compared in constant
// time.
func (s *Store) Authenticate(token string) (Key, error) {
	id, secret, err := ParseToken(token)
	if err != nil {
		return Key{}, err
	}
	s.maybeReload()
	s.mu.RLock()
	k, ok := s.mu.byID[id]
	var cp Key
	if ok {
		cp = *k
	}
	s.mu.RUnlock()
	if !ok {
		// Hash anyway so that unknown ids and wrong secrets take as long.
		checkSecret(secret, strings.Repeat("0", 64))
		return Key{}, ErrUnknown
	}
	if !checkSecret(secret, cp.Hash) {
		return Key{}, ErrUnknown
	}
	if !cp.Revoked.IsZero() {
		return Key{}, ErrRevoked
	}
	if !cp.Expires.IsZero() && !s.now().Before(cp.Expires) {
		return Key{}, ErrExpired
	}
	cp.Principals = slices.Clone(cp.Principals)
	return cp, nil
}

// Spec describes a key to create.
type Spec struct {
	Tenant     string
	Principals []string
	Role       Role
	// TTL is the key's lifetime; 0 = no expiry.
	TTL  time.Duration
	Rate Rate
}

func (sp *Spec) validate() error {
	if sp.Role < RoleRead || sp.Role > RoleAdmin {
		return fmt.Errorf("%w: role is required (read, write or admin)", ErrInvalid)
	}
	if len(sp.Tenant) > MaxTenantBytes || !utf8.ValidString(sp.Tenant) {
		return fmt.Errorf("%w: tenant must be UTF-8 of at most %d bytes", ErrInvalid, MaxTenantBytes)
	}
	if len(sp.Principals) > MaxPrincipals {
		return fmt.Errorf("%w: at most %d principals", ErrInvalid, MaxPrincipals)
	}
	for _, p := range sp.Principals {
		if p == "" || len(p) > MaxPrincipalBytes || !utf8.ValidString(p) {
			return fmt.Errorf("%w: principal %q must be non-empty UTF-8 of at most %d bytes", ErrInvalid, p, MaxPrincipalBytes)
		}
	}
	if sp.TTL < 0 {
		return fmt.Errorf("%w: expiry must be positive", ErrInvalid)
	}
	if sp.Rate.PerSecond < 0 {
		return fmt.Errorf("%w: rate must be positive", ErrInvalid)
	}
	return nil
}

// Create makes a key and returns its record and its secret, which is not
// stored and cannot be shown again.
func (s *Store) Create(sp Spec) (Key, string, error) {
	if err := sp.validate(); err != nil {
		return Key{}, "", err
	}
	id, token, hash, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	now := s.now().UTC().Truncate(time.Second)
	k := &Key{ID: id, Tenant: sp.Tenant, Principals: slices.Clone(sp.Principals), Role: sp.Role, Rate: sp.Rate, Created: now, Hash: hash}
	if k.Principals == nil {
		k.Principals = []string{}
	}
	if sp.TTL > 0 {
		k.Expires = now.Add(sp.TTL)
	}
	err = s.update(func(keys []*Key) ([]*Key, error) { return append(keys, k), nil })
	return *k, token, err
}

// Revoke marks a key revoked. Revoking an unknown id is ErrUnknown;
// revoking twice is not an error.
func (s *Store) Revoke(id string) error {
	return s.update(func(keys []*Key) ([]*Key, error) {
		for _, k := range keys {
			if k.ID == id {
				if k.Revoked.IsZero() {
					k.Revoked = s.now().UTC().Truncate(time.Second)
				}
				return keys, nil
			}
		}
		return nil, fmt.Errorf("%w: no key %q", ErrUnknown, id)
	})
}

// List returns every key record, revoked and expired ones included, in
// creation order.
func (s *Store) List() []Key {
	s.maybeReload()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Key, len(s.mu.keys))
	for i, k := range s.mu.keys {
		out[i] = *k
		out[i].Principals = slices.Clone(k.Principals)
	}
	return out
}

// update applies fn to the file's keys under the cross-process lock and
// writes the result crash-safely.
func (s *Store) update(fn func([]*Key) ([]*Key, error)) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("auth: locking %s: %w", lock.Name(), err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN) //nolint:errcheck // closing releases it too
	keys, err := readFile(s.path)
	if err != nil {
		return err
	}
	keys, err = fn(keys)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(fileFormat{Version: fileVersion, Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	if err := writeFileAtomic(s.path, append(b, '\n')); err != nil {
		return err
	}
	return s.reload(true)
}

// writeFileAtomic replaces path with data: temporary file, write, fsync,
// close, rename, fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("auth: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("auth: writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("auth: syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("auth: closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("auth: syncing %s: %w", dir, err)
	}
	return nil
}
