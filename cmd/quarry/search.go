package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/spf13/pflag"
	"strings"

	"github.com/quarry-rag/quarry"
)

// scopeFlags are the retrieval-scope flags shared by search and ask.
type scopeFlags struct {
	k          int
	tenant     string
	principals stringList
	filter     string
}

func (s *scopeFlags) bind(fs *pflag.FlagSet, defK int) {
	fs.IntVar(&s.k, "k", defK, "number of results")
	fs.StringVar(&s.tenant, "tenant", "", "tenant of the request")
	fs.Var(&s.principals, "principal", "principal of the request, for document ACLs (repeatable)")
	fs.StringVar(&s.filter, "filter", "", `metadata filter as JSON, e.g. '{"field":"year","op":"gte","value":2020}'`)
}

func (s *scopeFlags) parseFilter() (quarry.Filter, error) {
	var f quarry.Filter
	if s.filter == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(s.filter), &f); err != nil {
		return f, usagef("--filter: %v", err)
	}
	return f, nil
}

// retrievalFlags are the retrieval flags of search, named as eval's.
type retrievalFlags struct {
	mode, fusion, language string
	alpha, rrfK, mmr       float64
	mmrDepth, ef           int
	exact, noRerank        bool
}

func (r *retrievalFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&r.mode, "mode", "", "retrieval mode: bm25, dense or hybrid (default: hybrid when the collection has an embedding model, else bm25 — as over HTTP)")
	fs.StringVar(&r.fusion, "fusion", "", "hybrid fusion: rrf (default), weighted or backend")
	fs.Float64Var(&r.alpha, "alpha", 0, "weight of the dense list in weighted fusion (default 0.5)")
	fs.Float64Var(&r.rrfK, "rrf-k", 0, "RRF's k (default 60)")
	fs.Float64Var(&r.mmr, "mmr", 0, "diversify results by maximal marginal relevance with this lambda in (0, 1]; 0 = off")
	fs.IntVar(&r.mmrDepth, "mmr-depth", 0, "candidates MMR chooses from (default max(50, k))")
	fs.IntVar(&r.ef, "ef", 0, "vector index search effort (HNSW ef); 0 = the collection's default")
	fs.BoolVar(&r.exact, "exact", false, "dense retrieval by exhaustive scan instead of the vector index")
	fs.StringVar(&r.language, "language", "", "query language for analysis (default: detected)")
	fs.BoolVar(&r.noRerank, "no-rerank", false, "skip the collection's reranker")
}

func (r *retrievalFlags) apply(req *quarry.SearchRequest) {
	req.Mode, req.Fusion, req.Language = r.mode, r.fusion, r.language
	req.Alpha, req.RRFK, req.MMR, req.MMRDepth = r.alpha, r.rrfK, r.mmr, r.mmrDepth
	req.Ef, req.Exact, req.NoRerank = r.ef, r.exact, r.noRerank
}

func setupSearch(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var sc scopeFlags
	sc.bind(fs, quarry.DefaultK)
	var rf retrievalFlags
	rf.bind(fs)
	return func(ctx context.Context, pos []string) error {
		if len(pos) == 0 {
			return usagef("give a query")
		}
		filter, err := sc.parseFilter()
		if err != nil {
			return err
		}
		req := quarry.SearchRequest{
			Query: strings.Join(pos, " "), K: sc.k, Tenant: sc.tenant, Principals: sc.principals, Filter: filter,
		}
		rf.apply(&req)
		t, err := openTarget(ctx, env, nil)
		if err != nil {
			return err
		}
		defer t.Close()
		res, err := t.search(ctx, req)
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, res)
		}
		if len(res.Results) == 0 {
			fmt.Fprintln(env.stdout, "no results")
		}
		for i, h := range res.Results {
			title := h.Title
			if title == "" {
				title = h.DocID
			}
			fmt.Fprintf(env.stdout, "%2d. %.3f  %s  (%s)\n    %s\n", i+1, h.Score, title, h.ChunkID, snippet(h.Text, 200))
		}
		return nil
	}
}

func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func setupAsk(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var sc scopeFlags
	sc.bind(fs, 5)
	maxSent := fs.Int("max-sentences", 3, "most sentences in an extractive answer")
	var lf llmFlags
	lf.bind(fs)
	method := fs.String("method", "", "extractive or llm (default: llm when --llm-url and --llm-model are set)")
	rewriteFlag := fs.String("rewrite", "", "query rewriting with the language model: multi or hyde")
	temperature := fs.Float64("temperature", -1, "sampling temperature, 0 = greedy (default: the server's)")
	maxTokens := fs.Int("max-tokens", 0, "most answer tokens (default 512)")
	stream := fs.Bool("stream", true, "print the answer as the model writes it (text output only)")
	mode := fs.String("mode", "", "retrieval mode: bm25, dense or hybrid (default: hybrid when the collection has an embedding model, else bm25)")
	return func(ctx context.Context, pos []string) error {
		if len(pos) == 0 {
			return usagef("give a question")
		}
		filter, err := sc.parseFilter()
		if err != nil {
			return err
		}
		t, err := openTarget(ctx, env, &lf)
		if err != nil {
			return err
		}
		defer t.Close()
		req := quarry.AskRequest{
			Question: strings.Join(pos, " "), K: sc.k, Tenant: sc.tenant, Principals: sc.principals, Filter: filter, MaxSentences: *maxSent,
			Mode: *mode, Method: *method, Rewrite: *rewriteFlag, Params: quarry.LLMParams{MaxTokens: *maxTokens},
		}
		if *temperature >= 0 {
			req.Params.Temperature = temperature
		}
		streamed := false
		var ans *quarry.Answer
		if t.cl != nil {
			var onToken func(string) error
			if *stream && !env.json {
				onToken = func(tok string) error {
					streamed = true
					_, err := fmt.Fprint(env.stdout, tok)
					return err
				}
			}
			ans, err = t.cl.ask(ctx, t.name, req, onToken)
		} else {
			ans, err = t.col.AskStream(ctx, req, func(ev quarry.AskEvent) error {
				if ev.Type == quarry.EventToken && *stream && !env.json {
					streamed = true
					_, err := fmt.Fprint(env.stdout, ev.Token)
					return err
				}
				return nil
			})
		}
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, ans)
		}
		if streamed {
			fmt.Fprintln(env.stdout)
		} else {
			fmt.Fprintln(env.stdout, ans.Answer)
		}
		if len(ans.Citations) > 0 {
			fmt.Fprintln(env.stdout)
		}
		for _, c := range ans.Citations {
			fmt.Fprintf(env.stdout, "[%d] %s, characters %d-%d (%s)\n", c.Marker, c.DocID, c.Start, c.End, c.ChunkID)
		}
		return nil
	}
}

func setupDelete(env *cliEnv, fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, ids []string) error {
		if len(ids) == 0 {
			return usagef("give at least one document id")
		}
		t, err := openTarget(ctx, env, nil)
		if err != nil {
			return err
		}
		defer t.Close()
		var deleted []string
		for _, id := range ids {
			if err := t.delete(ctx, id); err != nil {
				return err
			}
			deleted = append(deleted, id)
		}
		if env.json {
			return printJSON(env.stdout, map[string]any{"deleted": deleted})
		}
		fmt.Fprintf(env.stdout, "deleted %d document(s)\n", len(deleted))
		return nil
	}
}

func setupGet(env *cliEnv, fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, ids []string) error {
		if len(ids) != 1 {
			return usagef("give exactly one document id")
		}
		t, err := openTarget(ctx, env, nil)
		if err != nil {
			return err
		}
		defer t.Close()
		d, err := t.get(ctx, ids[0])
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, d)
		}
		fmt.Fprintf(env.stdout, "id: %s\ntitle: %s\nlanguage: %s\nversion: %d\nsource: %s\n\n%s\n", d.ID, d.Title, d.Language, d.Version, d.Source, d.Text)
		return nil
	}
}

func setupStats(env *cliEnv, fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, _ []string) error {
		t, err := openTarget(ctx, env, nil)
		if err != nil {
			return err
		}
		defer t.Close()
		st, err := t.stats(ctx)
		if err != nil {
			return err
		}
		if env.json {
			return printJSON(env.stdout, st)
		}
		fmt.Fprintf(env.stdout, "collection  %s\ndocuments   %d\nchunks      %d\nterms       %d\npostings    %d\nindex       %s in memory\ndisk        %s\n",
			st.Collection, st.Documents, st.Chunks, st.Terms, st.Postings, human(st.IndexBytes), human(st.DiskBytes))
		if st.Vectors > 0 {
			fmt.Fprintf(env.stdout, "vectors     %d × %d dimensions, %s in memory (%d bytes per vector)\n",
				st.Vectors, st.Dimension, human(st.VectorBytes), st.BytesPerVector)
		}
		for _, l := range sortedKeys(st.Languages) {
			fmt.Fprintf(env.stdout, "language    %s: %d documents\n", l, st.Languages[l])
		}
		return nil
	}
}

func setupCheck(env *cliEnv, fs *pflag.FlagSet) runFunc {
	return func(ctx context.Context, _ []string) error {
		t, err := openTarget(ctx, env, nil)
		if err != nil {
			return err
		}
		defer t.Close()
		r, err := t.check(ctx)
		if err != nil {
			return err
		}
		if env.json {
			if err := printJSON(env.stdout, r); err != nil {
				return err
			}
		} else if r.Consistent {
			fmt.Fprintf(env.stdout, "collection %q is consistent\n", r.Collection)
		}
		if !r.Consistent {
			return fmt.Errorf("collection %q is damaged: %s", r.Collection, strings.Join(strings.Fields(r.Problem), " "))
		}
		return nil
	}
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
