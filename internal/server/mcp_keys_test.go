package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds an API key to every request of an MCP client.
type bearer struct {
	key string
	rt  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.rt.RoundTrip(r)
}

// TestMCPWithKeys: /mcp sits behind the guard, and each tool call runs
// with the key's scope: tenant A's secret reaches alice's key and never a
// tenant-B key (whatever the arguments claim); no key is refused.
func TestMCPWithKeys(t *testing.T) {
	k := newKeyring(t, nil)
	call := func(key string) (string, error) {
		ctx := context.Background()
		tr := &mcp.StreamableClientTransport{Endpoint: k.ts.URL + "/mcp",
			HTTPClient: &http.Client{Transport: bearer{key, k.ts.Client().Transport}}}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, tr, nil)
		if err != nil {
			return "", err
		}
		defer cs.Close()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search",
			Arguments: map[string]any{"query": "zebracorn launch code", "collection": "c"}})
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String(), nil
	}
	out, err := call(k.aliceRead)
	if err != nil || !strings.Contains(out, "7741") {
		t.Fatalf("alice's key over MCP: %q %v", out, err)
	}
	for name, key := range map[string]string{"other tenant": k.otherTenant, "wrong principal": k.bobRead} {
		out, err := call(key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(out, "7741") || strings.Contains(out, secretWord+" launch") {
			t.Errorf("%s read tenant A's secret over MCP: %s", name, out)
		}
	}
	if _, err := call("qk_0000000000000000_" + strings.Repeat("a", 43)); err == nil {
		t.Error("an unknown key connected to /mcp")
	}
}
