package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/tools"
)

// Version is reported to MCP clients.
const Version = "0.1.0"

// Options configure a server. A nil value is valid.
type Options struct {
	// ScopeOf resolves the scope of an HTTP request. Default:
	// tools.ScopeFrom(r.Context()), else the shared tenant with read access.
	ScopeOf func(*http.Request) tools.Scope
}

// New returns an MCP server bound to sc over the tools of set, with
// collections and documents from cat as resources.
func New(cat tools.Catalog, set *tools.Set, sc tools.Scope) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "quarry", Version: Version}, nil)
	for _, t := range set.List(sc) {
		name := t.Name
		s.AddTool(&mcp.Tool{Name: name, Description: t.Description, InputSchema: json.RawMessage(t.Schema),
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: !t.Write}},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				res, cerr := set.Call(ctx, sc, name, req.Params.Arguments)
				if cerr != nil {
					return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: cerr.Message}}}, nil
				}
				out := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Text}}}
				if res.Data != nil {
					out.StructuredContent = res.Data
				}
				return out, nil
			})
	}
	s.AddResource(&mcp.Resource{URI: "quarry://collections", Name: "collections", MIMEType: "application/json",
		Description: "The collections of this Quarry engine."},
		func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			b, _ := json.Marshal(map[string][]string{"collections": cat.Collections(ctx)})
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}}, nil
		})
	s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "quarry://collections/{collection}/documents/{id}", Name: "document",
		MIMEType: "text/plain", Description: "A document's text, by collection and id (percent-encode '/' in ids)."},
		func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			col, id, err := parseDocURI(req.Params.URI)
			if err != nil {
				return nil, err
			}
			c, err := cat.Collection(ctx, col)
			if err != nil {
				return nil, mcp.ResourceNotFoundError(req.Params.URI)
			}
			d, err := c.GetScoped(ctx, id, sc.Tenant, sc.Principals)
			if errors.Is(err, quarry.ErrNotFound) {
				return nil, mcp.ResourceNotFoundError(req.Params.URI)
			} else if err != nil {
				return nil, err
			}
			text := d.Text
			if d.Title != "" {
				text = "# " + d.Title + "\n\n" + text
			}
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: text}}}, nil
		})
	return s
}

// parseDocURI splits quarry://collections/{c}/documents/{id}.
func parseDocURI(uri string) (col, id string, err error) {
	rest, ok := strings.CutPrefix(uri, "quarry://collections/")
	if !ok {
		return "", "", fmt.Errorf("not a document URI: %q", uri)
	}
	c, encID, ok := strings.Cut(rest, "/documents/")
	if !ok || c == "" || encID == "" {
		return "", "", fmt.Errorf("not a document URI: %q", uri)
	}
	if col, err = url.PathUnescape(c); err == nil {
		id, err = url.PathUnescape(encID)
	}
	if err != nil {
		return "", "", fmt.Errorf("bad escape in %q: %w", uri, err)
	}
	return col, id, nil
}

// Handler serves MCP over streamable HTTP, statelessly: every request gets a
// server bound to its own scope.
func Handler(cat tools.Catalog, set *tools.Set, opts *Options) http.Handler {
	scopeOf := func(r *http.Request) tools.Scope {
		if sc, ok := tools.ScopeFrom(r.Context()); ok {
			return sc
		}
		return tools.Scope{Role: tools.RoleRead}
	}
	if opts != nil && opts.ScopeOf != nil {
		scopeOf = opts.ScopeOf
	}
	return mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		return New(cat, set, scopeOf(r))
	}, &mcp.StreamableHTTPOptions{Stateless: true})
}

// ServeStdio runs a server bound to sc on stdin/stdout until ctx ends or
// the client disconnects.
func ServeStdio(ctx context.Context, cat tools.Catalog, set *tools.Set, sc tools.Scope) error {
	return New(cat, set, sc).Run(ctx, &mcp.StdioTransport{})
}
