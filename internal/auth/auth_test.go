package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateAuthenticateRevoke(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Empty() {
		t.Fatal("new store not empty")
	}
	k, tok, err := st.Create(Spec{Tenant: "acme", Principals: []string{"alice"}, Role: RoleWrite, Rate: Rate{PerSecond: 5, Burst: 5}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Authenticate(tok)
	if err != nil || got.ID != k.ID || got.Tenant != "acme" || got.Role != RoleWrite || got.Principals[0] != "alice" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	// The file holds the hash, never the secret.
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	_, secret, _ := ParseToken(tok)
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), k.Hash) {
		t.Fatalf("key file holds the secret or lacks the hash:\n%s", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	// A wrong secret with the right id, an unknown id, a malformed token.
	wrong := tok[:len(tok)-1] + "A"
	if tok[len(tok)-1] == 'A' {
		wrong = tok[:len(tok)-1] + "B"
	}
	for _, c := range []struct {
		tok  string
		want error
	}{
		{wrong, ErrUnknown},
		{"qk_0000000000000000_" + strings.Repeat("A", secretLen), ErrUnknown},
		{"qk_short", ErrMalformed},
		{tok + "x", ErrMalformed},
		{strings.ToUpper(tok), ErrMalformed},
	} {
		if _, err := st.Authenticate(c.tok); !errors.Is(err, c.want) {
			t.Errorf("Authenticate(%q) = %v, want %v", c.tok, err, c.want)
		}
	}
	// Another process (another Store on the same directory) revokes it;
	// this one sees it after ReloadEvery.
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Authenticate(tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("after revoke: %v", err)
	}
	now := time.Now()
	st.now = func() time.Time { return now.Add(2 * ReloadEvery) }
	if _, err := st.Authenticate(tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("other store after revoke: %v", err)
	}
	if err := st.Revoke("ffffffffffffffff"); !errors.Is(err, ErrUnknown) {
		t.Errorf("revoke unknown: %v", err)
	}
	if st.Empty() || st.Len() != 0 {
		t.Errorf("Empty %v Len %d after revoking the only key", st.Empty(), st.Len())
	}
}

func TestExpiry(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := st.Create(Spec{Role: RoleRead, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(tok); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st.now = func() time.Time { return now.Add(time.Hour + time.Minute) }
	if _, err := st.Authenticate(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("expired key: %v", err)
	}
}

func TestSpecValidation(t *testing.T) {
	st, _ := Open(t.TempDir())
	for _, sp := range []Spec{
		{},
		{Role: RoleRead, Tenant: strings.Repeat("t", MaxTenantBytes+1)},
		{Role: RoleRead, Principals: []string{""}},
		{Role: RoleRead, Principals: []string{"\xff"}},
		{Role: RoleRead, TTL: -time.Second},
	} {
		if _, _, err := st.Create(sp); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want ErrInvalid", sp, err)
		}
	}
	if _, err := os.Stat(st.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid spec wrote the key file: %v", err)
	}
}

// TestConcurrentCreate: keys made by several stores at once (as by several
// `quarry keys create` processes) are all kept.
func TestConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			_, toks[i], err = st.Create(Spec{Role: RoleRead})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, _ := Open(dir)
	if n := len(st.List()); n != len(toks) {
		t.Fatalf("%d keys, want %d", n, len(toks))
	}
	for _, tok := range toks {
		if _, err := st.Authenticate(tok); err != nil {
			t.Errorf("key lost: %v", err)
		}
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"keys":[{"id":"../x"}]}`), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("a corrupt key file opened")
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"keys":[`), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("a truncated key file opened")
	}
}

func TestParseBearer(t *testing.T) {
	for _, c := range []struct {
		in, tok string
		err     error
	}{
		{"", "", ErrNoKey},
		{"Bearer abc", "abc", nil},
		{"bearer   abc  ", "abc", nil},
		{"Basic abc", "", ErrMalformed},
		{"Bearer", "", ErrMalformed},
		{"Bearer ", "", ErrMalformed},
		{"Bearer a b", "", ErrMalformed},
		{"Bearer " + strings.Repeat("a", MaxHeaderLen), "", ErrMalformed},
		{"Bearer \xff", "", ErrMalformed},
	} {
		tok, err := ParseBearer(c.in)
		if tok != c.tok || !errors.Is(err, c.err) {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", c.in, tok, err, c.tok, c.err)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"20/s": {20, 20}, "120/m": {2, 2}, "1/h": {1.0 / 3600, 1}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0/s", "-1/s", "x/s", "1/d", "NaN/s", "Inf/s", "1e300/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer qk_0123456789abcdef_" + strings.Repeat("A", secretLen))
	f.Add("bearer x")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := ParseBearer(h)
		if err != nil {
			return
		}
		if tok == "" || len(tok) > MaxHeaderLen || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("ParseBearer(%q) = %q", h, tok)
		}
		id, secret, err := ParseToken(tok)
		if err != nil {
			return
		}
		if prefix+id+"_"+secret != tok {
			t.Fatalf("ParseToken(%q) does not round-trip: %q %q", tok, id, secret)
		}
	})
}

func BenchmarkAuthenticate(b *testing.B) {
	st, _ := Open(b.TempDir())
	_, tok, _ := st.Create(Spec{Role: RoleRead})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Authenticate(tok); err != nil {
			b.Fatal(err)
		}
	}
}
