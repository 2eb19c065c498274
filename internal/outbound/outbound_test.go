package outbound

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPolicy(t *testing.T) {
	p, err := New("http://10.0.0.5:11434", "https://api.example.com/v1/")
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]bool{
		"http://10.0.0.5:11434":                  true,
		"http://10.0.0.5:11434/api/chat":         true,
		"https://api.example.com/v1":             true,
		"https://api.example.com:443/v1/embed":   true,
		"https://API.example.com/v1/embed":       true,
		"http://10.0.0.5:114340":                 false,
		"http://10.0.0.5:11434.evil.example/":    false,
		"http://10.0.0.5:11434@evil.example/":    false,
		"http://user:pw@10.0.0.5:11434/":         false,
		"https://10.0.0.5:11434/":                false,
		"https://api.example.com/v10":            false,
		"https://api.example.com/":               false,
		"http://api.example.com/v1":              false,
		"ftp://10.0.0.5:11434":                   false,
		"//10.0.0.5:11434":                       false,
		"http://attacker.example/x":              false,
		"file:///etc/passwd":                     false,
		"http://127.0.0.1:11434/../../x":         false,
		"https://api.example.com/v1/../../admin": true, // the path is the server's to resolve; the origin is what matters
	} {
		if got := p.Allowed(raw); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", raw, got, want)
		}
	}
	var zero *Policy
	if zero.Allowed("http://127.0.0.1/") {
		t.Error("the nil policy allowed a URL")
	}
	if _, err := New("ftp://x"); err == nil {
		t.Error("New accepted ftp")
	}
	if got := Split("http://a, http://b\thttp://c"); len(got) != 3 {
		t.Errorf("Split = %q", got)
	}
}

func TestCheckRedirect(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect to another host was followed, Authorization %q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	var self *httptest.Server
	self = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		case "/here":
			http.Redirect(w, r, self.URL+"/ok", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer self.Close()
	c := &http.Client{CheckRedirect: CheckRedirect}
	res, err := c.Get(self.URL + "/here")
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("same-host redirect: %v %v", res, err)
	}
	res.Body.Close()
	if _, err := c.Get(self.URL + "/away"); err == nil {
		t.Fatal("a redirect to another host was followed")
	}
}
