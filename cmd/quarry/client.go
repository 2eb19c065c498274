package main

// Client mode: with --server URL (or $QUARRY_SERVER) the data commands
// talk to a running `quarry serve` over its HTTP API instead of opening
// the data directory. When the data directory is held by a local serve,
// which records its address in serveAddrFile, they find and use it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/agent"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// serveAddrFile is the file in the data directory where a running
// `quarry serve` records the URL it serves, and removes on shutdown.
const serveAddrFile = "serve.addr"

// client talks to a running quarry serve.
type client struct {
	base   string // URL without a trailing slash
	apiKey string
	http   *http.Client
}

func newClient(base, apiKey string) (*client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server must be an http(s) URL such as http://127.0.0.1:8080, got %q", base)
	}
	// No overall timeout: answers and uploads may take long; ctx bounds them.
	return &client{base: strings.TrimRight(base, "/"), apiKey: apiKey, http: &http.Client{}}, nil
}

// remoteError is an error response of the server, with its code.
type remoteError struct {
	status  int
	code    string
	message string
	server  string
}

func (e *remoteError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d %s from %s)", e.message, e.status, e.code, e.server)
	if e.status == http.StatusUnauthorized {
		msg += "; pass an API key with --api-key or $QUARRY_API_KEY"
	}
	return msg
}

// send sends a request and returns the response when its status is 2xx;
// any other status becomes a *remoteError. The caller closes the body.
func (c *client) send(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("quarry serve at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if json.Unmarshal(data, &eb) != nil || eb.Error.Message == "" {
		eb.Error.Message = strings.TrimSpace(string(data))
		if eb.Error.Message == "" {
			eb.Error.Message = resp.Status
		}
	}
	return nil, &remoteError{status: resp.StatusCode, code: eb.Error.Code, message: eb.Error.Message, server: c.base}
}

// do sends a request and decodes a JSON response into out (when not nil).
func (c *client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	resp, err := c.send(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("quarry serve at %s: reading the response: %w", c.base, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("quarry serve at %s: decoding the response: %w", c.base, err)
	}
	return nil
}

func (c *client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, bytes.NewReader(b), "application/json", out)
}

func colPath(collection string) string { return "/v1/collections/" + url.PathEscape(collection) }

// searchBody is the wire form of a search request (internal/server's
// searchRequest).
type searchBody struct {
	Query      string         `json:"query"`
	K          int            `json:"k,omitempty"`
	Mode       string         `json:"mode,omitempty"`
	Language   string         `json:"language,omitempty"`
	Fusion     string         `json:"fusion,omitempty"`
	Alpha      float64        `json:"alpha,omitempty"`
	RRFK       float64        `json:"rrf_k,omitempty"`
	MMR        float64        `json:"mmr,omitempty"`
	MMRDepth   int            `json:"mmr_depth,omitempty"`
	Ef         int            `json:"ef,omitempty"`
	Exact      bool           `json:"exact,omitempty"`
	NoRerank   bool           `json:"no_rerank,omitempty"`
	Tenant     string         `json:"tenant,omitempty"`
	Principals []string       `json:"principals,omitempty"`
	Filter     *quarry.Filter `json:"filter,omitempty"`
}

func filterPtr(f quarry.Filter) *quarry.Filter {
	if f.IsZero() {
		return nil
	}
	return &f
}

func (c *client) search(ctx context.Context, collection string, r quarry.SearchRequest) (*quarry.SearchResponse, error) {
	in := searchBody{
		Query: r.Query, K: r.K, Mode: r.Mode, Language: r.Language, Fusion: r.Fusion, Alpha: r.Alpha, RRFK: r.RRFK,
		MMR: r.MMR, MMRDepth: r.MMRDepth, Ef: r.Ef, Exact: r.Exact, NoRerank: r.NoRerank,
		Tenant: r.Tenant, Principals: r.Principals, Filter: filterPtr(r.Filter),
	}
	var out quarry.SearchResponse
	if err := c.postJSON(ctx, colPath(collection)+"/search", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// askBody is the wire form of a question (internal/server's askRequest).
type askBody struct {
	Question     string         `json:"question"`
	K            int            `json:"k,omitempty"`
	Mode         string         `json:"mode,omitempty"`
	MaxSentences int            `json:"max_sentences,omitempty"`
	Method       string         `json:"method,omitempty"`
	Rewrite      string         `json:"rewrite,omitempty"`
	Tenant       string         `json:"tenant,omitempty"`
	Principals   []string       `json:"principals,omitempty"`
	Filter       *quarry.Filter `json:"filter,omitempty"`
	Temperature  *float64       `json:"temperature,omitempty"`
	MaxTokens    *int           `json:"max_tokens,omitempty"`
	Stream       bool           `json:"stream,omitempty"`
}

// ask asks a question; with onToken, the answer is streamed and onToken
// gets each piece of its text as the server sends it.
func (c *client) ask(ctx context.Context, collection string, r quarry.AskRequest, onToken func(string) error) (*quarry.Answer, error) {
	in := askBody{
		Question: r.Question, K: r.K, Mode: r.Mode, MaxSentences: r.MaxSentences, Method: r.Method, Rewrite: r.Rewrite,
		Tenant: r.Tenant, Principals: r.Principals, Filter: filterPtr(r.Filter), Temperature: r.Params.Temperature,
	}
	if r.Params.MaxTokens > 0 {
		in.MaxTokens = &r.Params.MaxTokens
	}
	if onToken == nil {
		var out quarry.Answer
		if err := c.postJSON(ctx, colPath(collection)+"/ask", in, &out); err != nil {
			return nil, err
		}
		return &out, nil
	}
	in.Stream = true
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var ans *quarry.Answer
	err = c.stream(ctx, colPath(collection)+"/ask", b, func(event string, data []byte) error {
		switch event {
		case "token":
			var tok struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(data, &tok); err != nil {
				return err
			}
			return onToken(tok.Text)
		case "done":
			ans = new(quarry.Answer)
			return json.Unmarshal(data, ans)
		case "error":
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			json.Unmarshal(data, &eb)
			return &remoteError{status: http.StatusOK, code: eb.Error.Code, message: eb.Error.Message, server: c.base}
		}
		return nil
	})
	if err == nil && ans == nil {
		err = fmt.Errorf("quarry serve at %s: the answer stream ended without a done event", c.base)
	}
	return ans, err
}

// stream posts a JSON body and calls fn for each Server-Sent Event of the
// response (comments, the heartbeats, are skipped). An error response
// before the stream is returned as for do.
func (c *client) stream(ctx context.Context, path string, body []byte, fn func(event string, data []byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("quarry serve at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// An ordinary JSON response: an error, or the server's answer
		// in one piece.
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return err
		}
		if resp.StatusCode/100 != 2 {
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(data, &eb) != nil || eb.Error.Message == "" {
				eb.Error.Message = strings.TrimSpace(string(data))
			}
			return &remoteError{status: resp.StatusCode, code: eb.Error.Code, message: eb.Error.Message, server: c.base}
		}
		return fn("done", data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var event string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != nil {
				if err := fn(event, data); err != nil {
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("quarry serve at %s: reading the stream: %w", c.base, err)
	}
	if data != nil {
		return fn(event, data)
	}
	return nil
}

func (c *client) get(ctx context.Context, collection, id string) (quarry.Document, error) {
	var d quarry.Document
	err := c.do(ctx, http.MethodGet, colPath(collection)+"/documents/"+url.PathEscape(id), nil, "", &d)
	return d, err
}

func (c *client) delete(ctx context.Context, collection, id string) error {
	return c.do(ctx, http.MethodDelete, colPath(collection)+"/documents/"+url.PathEscape(id), nil, "", nil)
}

func (c *client) stats(ctx context.Context, collection string) (quarry.Stats, error) {
	var info struct {
		Name  string          `json:"name"`
		Stats json.RawMessage `json:"stats"`
	}
	var st quarry.Stats
	if err := c.do(ctx, http.MethodGet, colPath(collection), nil, "", &info); err != nil {
		return st, err
	}
	if err := json.Unmarshal(info.Stats, &st.Stats); err != nil {
		return st, fmt.Errorf("quarry serve at %s: decoding the stats: %w", c.base, err)
	}
	st.Collection = info.Name
	return st, nil
}

// checkResult is the outcome of a consistency check (internal/server's
// checkOut).
type checkResult struct {
	Collection string `json:"collection"`
	Consistent bool   `json:"consistent"`
	Problem    string `json:"problem,omitempty"`
}

func (c *client) check(ctx context.Context, collection string) (checkResult, error) {
	var r checkResult
	err := c.do(ctx, http.MethodPost, colPath(collection)+"/check", nil, "", &r)
	return r, err
}

// backup streams the collection's backup archive into w.
func (c *client) backup(ctx context.Context, collection string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, colPath(collection)+"/backup", nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("quarry serve at %s: the backup broke off: %w", c.base, err)
	}
	return nil
}

// embed embeds texts with POST /v1/embeddings; model is a model name or a
// collection (its embedding model).
func (c *client) embed(ctx context.Context, model string, texts []string, query bool) ([][]float32, error) {
	in := struct {
		Model     string   `json:"model"`
		Input     []string `json:"input"`
		InputType string   `json:"input_type,omitempty"`
	}{Model: model, Input: texts}
	if query {
		in.InputType = "query"
	}
	var out struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := c.postJSON(ctx, "/v1/embeddings", in, &out); err != nil {
		return nil, err
	}
	if len(out.Data) != len(texts) {
		return nil, fmt.Errorf("quarry serve at %s: %d embeddings for %d texts", c.base, len(out.Data), len(texts))
	}
	vecs := make([][]float32, len(texts))
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil {
			return nil, fmt.Errorf("quarry serve at %s: embedding index %d out of order", c.base, d.Index)
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}

// remoteAgentRequest is the body of POST /v1/collections/{c}/agent
// (internal/server's agentRequest).
type remoteAgentRequest struct {
	Task      string       `json:"task"`
	Pipeline  string       `json:"pipeline,omitempty"`
	SessionID string       `json:"session_id,omitempty"`
	Stream    bool         `json:"stream"`
	Budget    remoteBudget `json:"budget"`
}

type remoteBudget struct {
	Steps       int     `json:"steps,omitempty"`
	ToolCalls   int     `json:"tool_calls,omitempty"`
	Tokens      int     `json:"tokens,omitempty"`
	WallSeconds float64 `json:"wall_seconds,omitempty"`
}

// agent runs an agent on the server. With req.Stream, emit receives each
// step as the server streams it (Server-Sent Events); the result comes
// from the final event.
func (c *client) agent(ctx context.Context, collection string, req remoteAgentRequest, emit agent.Emit) (*agent.Result, error) {
	path := colPath(collection) + "/agent"
	if !req.Stream {
		var res agent.Result
		if err := c.postJSON(ctx, path, req, &res); err != nil {
			return nil, err
		}
		return &res, nil
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var res *agent.Result
	err = c.stream(ctx, path, body, func(event string, data []byte) error {
		switch event {
		case "final", "done":
			res = new(agent.Result)
			return json.Unmarshal(data, res)
		case "error":
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(data, &eb) != nil || eb.Error.Message == "" {
				eb.Error.Message = strings.TrimSpace(string(data))
			}
			return &remoteError{status: http.StatusOK, code: eb.Error.Code, message: eb.Error.Message, server: c.base}
		}
		var ev agent.Event
		if json.Unmarshal(data, &ev) != nil || emit == nil {
			return nil // an event this client does not know: skip it
		}
		return emit(ev)
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("quarry serve at %s: the agent's stream ended without a result", c.base)
	}
	return res, nil
}

// uploadFile is one file of an upload: its name on the server and where
// to read it.
type uploadFile struct {
	name string
	open func() (io.ReadCloser, error)
}

// uploadResult is the server's result for one uploaded file.
type uploadResult struct {
	File string `json:"file"`
	quarry.StreamResult
	Error *struct {
		Code, Message string
	} `json:"error,omitempty"`
}

// upload streams files to POST /v1/collections/{c}/files as one
// multipart/form-data request (never held in memory) and returns the
// per-file results.
func (c *client) upload(ctx context.Context, collection, tenant string, acl []string, files []uploadFile) ([]uploadResult, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeParts(mw, tenant, acl, files))
	}()
	var out struct {
		Results []uploadResult `json:"results"`
		Error   *struct {
			Code, Message string
		} `json:"error,omitempty"`
	}
	err := c.do(ctx, http.MethodPost, colPath(collection)+"/files", pr, mw.FormDataContentType(), &out)
	pr.CloseWithError(errors.New("upload finished"))
	if err != nil {
		return nil, err
	}
	if out.Error != nil {
		return out.Results, fmt.Errorf("upload to %s: %s", c.base, out.Error.Message)
	}
	return out.Results, nil
}

func writeParts(mw *multipart.Writer, tenant string, acl []string, files []uploadFile) error {
	if tenant != "" {
		if err := mw.WriteField("tenant", tenant); err != nil {
			return err
		}
	}
	for _, a := range acl {
		if err := mw.WriteField("acl", a); err != nil {
			return err
		}
	}
	for _, f := range files {
		rc, err := f.open()
		if err != nil {
			return err
		}
		w, err := mw.CreateFormFile("files", f.name)
		if err == nil {
			_, err = io.Copy(w, rc)
		}
		rc.Close()
		if err != nil {
			return err
		}
	}
	return mw.Close()
}

// remote returns the client for --server, or nil without it.
func remote(env *cliEnv) (*client, error) {
	if env.server == "" {
		return nil, nil
	}
	return newClient(env.server, env.apiKey)
}

// localServer returns a client for the quarry serve that recorded its
// address in the data directory and answers /healthz, or nil.
func localServer(ctx context.Context, env *cliEnv) *client {
	b, err := os.ReadFile(filepath.Join(env.dataDir, serveAddrFile))
	if err != nil {
		return nil
	}
	// The file is "URL\nPID\n"; a file left by a server that died (its
	// process gone) is stale, whoever listens on that port now.
	lines := strings.Fields(string(b))
	if len(lines) != 2 || !processAlive(lines[1]) {
		return nil
	}
	cl, err := newClient(lines[0], env.apiKey)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if cl.do(ctx, http.MethodGet, "/healthz", nil, "", nil) != nil {
		return nil
	}
	return cl
}

// processAlive reports whether the process with this id exists (signal 0;
// where that is unsupported, false: the lock timeout then decides).
func processAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	p, err := os.FindProcess(n)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func inUse(err error) bool {
	return err != nil && strings.Contains(err.Error(), "in use by another process")
}

// target is where a data command runs: a local collection, or a server
// in client mode.
type target struct {
	cl   *client
	eng  *quarry.Engine
	col  *quarry.Collection
	name string
}

func (t *target) Close() {
	if t.eng != nil {
		t.eng.Close()
	}
}

func (t *target) search(ctx context.Context, req quarry.SearchRequest) (*quarry.SearchResponse, error) {
	if t.cl != nil {
		return t.cl.search(ctx, t.name, req)
	}
	return t.col.Search(ctx, req)
}

func (t *target) get(ctx context.Context, id string) (quarry.Document, error) {
	if t.cl != nil {
		return t.cl.get(ctx, t.name, id)
	}
	return t.col.Get(ctx, id)
}

func (t *target) delete(ctx context.Context, id string) error {
	if t.cl != nil {
		return t.cl.delete(ctx, t.name, id)
	}
	return t.col.Delete(ctx, id)
}

// check verifies the collection; damage found is a result with
// Consistent false, any other failure an error.
func (t *target) check(ctx context.Context) (checkResult, error) {
	if t.cl != nil {
		return t.cl.check(ctx, t.name)
	}
	r := checkResult{Collection: t.name, Consistent: true}
	if err := t.col.Verify(ctx); err != nil {
		if !errors.Is(err, quarry.ErrCorrupt) {
			return r, err
		}
		r.Consistent, r.Problem = false, err.Error()
	}
	return r, nil
}

func (t *target) stats(ctx context.Context) (quarry.Stats, error) {
	if t.cl != nil {
		return t.cl.stats(ctx, t.name)
	}
	return t.col.Stats(ctx)
}

// openTarget returns the server in client mode, else the opened local
// collection (with the language model of lf, when not nil). A data
// directory held by a running local quarry serve is reached through that
// server, with a note on stderr.
func openTarget(ctx context.Context, env *cliEnv, lf *llmFlags) (*target, error) {
	t := &target{name: env.collection}
	var err error
	if t.cl, err = remote(env); t.cl != nil || err != nil {
		return t, err
	}
	// A serve that recorded its address holds the directory's lock: use
	// it at once rather than waiting out the lock timeout.
	if t.cl = localServer(ctx, env); t.cl != nil {
		noteLocalServer(env, t.cl)
		return t, nil
	}
	if lf != nil {
		t.eng, t.col, err = openCollectionLLM(ctx, env, lf)
	} else {
		t.eng, t.col, err = openCollection(ctx, env)
	}
	if inUse(err) {
		if t.cl = localServer(ctx, env); t.cl != nil {
			noteLocalServer(env, t.cl)
			return t, nil
		}
		return nil, fmt.Errorf("%v; if a quarry serve holds it, pass its URL with --server (or $QUARRY_SERVER)", oneLine(err))
	}
	return t, err
}

// openEngineOrRemote is openOrRemote for commands that open the engine
// (ingest creates its collection).
func openEngineOrRemote(ctx context.Context, env *cliEnv) (*client, *quarry.Engine, error) {
	if cl, err := remote(env); cl != nil || err != nil {
		return cl, nil, err
	}
	if cl := localServer(ctx, env); cl != nil {
		noteLocalServer(env, cl)
		return cl, nil, nil
	}
	eng, err := openEngine(env)
	if inUse(err) {
		if cl := localServer(ctx, env); cl != nil {
			noteLocalServer(env, cl)
			return cl, nil, nil
		}
		return nil, nil, fmt.Errorf("%v; if a quarry serve holds it, pass its URL with --server (or $QUARRY_SERVER)", oneLine(err))
	}
	return nil, eng, err
}

func noteLocalServer(env *cliEnv, cl *client) {
	fmt.Fprintf(env.stderr, "quarry: %s is in use by quarry serve at %s; using that server\n", env.dataDir, cl.base)
}

// remoteIngest uploads the files named by paths (folders walked as by a
// local ingest, "-" for standard input) to the server in one streamed
// request and prints the summary. Files the server cannot load are listed
// with the reason; with skip false any of them makes the command fail.
func remoteIngest(ctx context.Context, env *cliEnv, cl *client, paths, include, exclude []string, tenant string, acl []string, stdinName string, skip bool) error {
	start := time.Now()
	var sum ingestSummary
	var files []uploadFile
	skipFile := func(path, reason string) {
		sum.Skipped++
		sum.SkippedFiles = append(sum.SkippedFiles, skippedFile{Path: path, Reason: reason})
		fmt.Fprintf(env.stderr, "quarry ingest: skipped %s: %s\n", path, reason)
	}
	addFile := func(path string) {
		files = append(files, uploadFile{name: filepath.Base(path), open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	for _, p := range paths {
		if p == "-" {
			files = append(files, uploadFile{name: stdinName, open: func() (io.ReadCloser, error) { return io.NopCloser(os.Stdin), nil }})
			continue
		}
		if ingest.IsURL(p) {
			return usagef("ingesting a URL through a server is not supported: ingest it where the data directory is, or download it and ingest the file")
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			addFile(p)
			continue
		}
		err = ingest.Walk(ctx, p, &ingest.WalkOptions{Include: include, Exclude: exclude}, func(path string) error {
			if !ingest.Supported(path) {
				ext := strings.ToLower(filepath.Ext(path))
				skipFile(path, fmt.Sprintf("unsupported file type %q", ext))
				return nil
			}
			addFile(path)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return printIngestSummary(env, sum, start)
	}
	res, err := cl.upload(ctx, env.collection, tenant, acl, files)
	var failed []string
	for _, r := range res {
		if r.Error != nil {
			failed = append(failed, r.File+": "+r.Error.Message)
			skipFile(r.File, r.Error.Message)
			continue
		}
		sum.Documents += r.Documents
		sum.Created += r.Created
		sum.Updated += r.Updated
		sum.Unchanged += r.Unchanged
		sum.Chunks += r.Chunks
	}
	if err != nil {
		return err
	}
	if len(failed) > 0 && !skip {
		return fmt.Errorf("%s (the other files were ingested; --on-error skip lists failures without failing)", failed[0])
	}
	return printIngestSummary(env, sum, start)
}
