package weaviate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// startCluster starts a fresh 3-node cluster in a temporary WEAVIATE_HOME
// and returns the node URLs and that folder (pid files: <home>/weaviate-i/pid).
func startCluster(t *testing.T) (urls []string, home string) {
	t.Helper()
	needWeaviate(t) // same availability rule as the single node
	home = t.TempDir()
	env := []string{"WEAVIATE_HOME=" + home}
	out, err := scriptEnv(env, "start", "--nodes", "3")
	t.Cleanup(func() { scriptEnv(env, "stop") })
	if err != nil {
		t.Fatalf("starting the 3-node cluster: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "QUARRY_WEAVIATE_URLS="); ok {
			urls = strings.Split(strings.TrimSpace(v), ",")
		}
	}
	if len(urls) != 3 {
		t.Fatalf("cluster start printed no 3 URLs:\n%s", out)
	}
	return urls, home
}

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func clusterDoc(r *rand.Rand, i int) store.DocChunks {
	id := "doc-" + strconv.Itoa(i)
	d := base.Document{ID: id, Text: fmt.Sprintf("record %d about granite and term%d", i, i), Language: "en", Hash: "h" + strconv.Itoa(i), Version: 1}
	c := base.Chunk{ID: base.ChunkID(id, 0), DocID: id, Text: d.Text, End: len(d.Text)}
	return store.DocChunks{Doc: d, Chunks: []base.Chunk{c}, Vectors: [][]float32{randVec(r, 32)}}
}

// TestClusterSurvivesNodeKill runs writes and queries against a 3-node
// cluster with replication factor 3 and QUORUM consistency, SIGKILLs one
// node in the middle, and checks that no acknowledged document is lost and
// that queries keep answering.
func TestClusterSurvivesNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Weaviate cluster (-short)")
	}
	urls, home := startCluster(t)
	ctx := context.Background()
	// All three node URLs: when the node in use dies, requests move on.
	b, err := Open(ctx, uniqueName("cluster"), Config{URL: strings.Join(urls, ","), Replication: 3, Consistency: Quorum, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.replicated {
		t.Fatalf("class not replicated")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var acked sync.Map // doc id → true once Upsert returned nil
	write := func(lo, hi int) error {
		var docs []store.DocChunks
		for i := lo; i < hi; i++ {
			docs = append(docs, clusterDoc(r, i))
		}
		if err := b.Upsert(ctx, docs); err != nil {
			return err
		}
		for i := lo; i < hi; i++ {
			acked.Store("doc-"+strconv.Itoa(i), true)
		}
		return nil
	}
	if err := write(0, 200); err != nil {
		t.Fatalf("initial ingest: %v", err)
	}

	var (
		stop                  atomic.Bool
		queries, qfails       atomic.Int64
		afterKill, afterFails atomic.Int64
		killed                atomic.Bool
		writeFails            atomic.Int64
		wg                    sync.WaitGroup
		lastQueryErr          atomic.Value
	)
	wg.Add(2)
	go func() { // queries
		defer wg.Done()
		qr := rand.New(rand.NewPCG(3, 4))
		for !stop.Load() {
			i := qr.IntN(200)
			hits, err := b.Lexical(ctx, store.LexicalQuery{Text: "term" + strconv.Itoa(i), K: 3, NoText: true})
			if err == nil && (len(hits) == 0 || hits[0].DocID != "doc-"+strconv.Itoa(i)) {
				err = fmt.Errorf("query term%d: got %v", i, hits)
			}
			if err == nil {
				_, err = b.Dense(ctx, store.DenseQuery{Vector: randVec(qr, 32), K: 5, NoText: true})
			}
			queries.Add(1)
			if killed.Load() {
				afterKill.Add(1)
			}
			if err != nil {
				qfails.Add(1)
				lastQueryErr.Store(err.Error())
				if killed.Load() {
					afterFails.Add(1)
				}
			}
		}
	}()
	go func() { // writes, 20 documents per call
		defer wg.Done()
		for n := 200; !stop.Load(); n += 20 {
			if err := write(n, n+20); err != nil {
				writeFails.Add(1)
				t.Logf("write %d..%d not acknowledged: %v", n, n+20, err)
			}
		}
	}()
	time.Sleep(3 * time.Second)
	// Kill the node this backend is talking to (node 0, which also
	// bootstrapped the Raft cluster).
	pid, err := os.ReadFile(filepath.Join(home, "weaviate-0", "pid"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		t.Fatalf("kill node 0: %v", err)
	}
	killed.Store(true)
	t.Logf("SIGKILLed weaviate-0 (pid %d)", p)
	time.Sleep(8 * time.Second)
	stop.Store(true)
	wg.Wait()

	var ids []string
	acked.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	vs, err := b.Versions(ctx, ids)
	if err != nil {
		t.Fatalf("Versions after the kill: %v", err)
	}
	lost := 0
	for _, id := range ids {
		if _, ok := vs[id]; !ok {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged document %s lost", id)
			}
		}
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged documents (%d lost, stats: %d documents), %d write calls failed; %d queries, %d failed (%d of %d after the kill); last query error: %v",
		len(ids), lost, st.Documents, writeFails.Load(), queries.Load(), qfails.Load(), afterFails.Load(), afterKill.Load(), lastQueryErr.Load())
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged documents lost", lost, len(ids))
	}
	if afterKill.Load() < 5 {
		t.Fatalf("only %d queries ran after the kill", afterKill.Load())
	}
	if afterFails.Load() > afterKill.Load()/10 {
		t.Fatalf("%d of %d queries failed after the kill", afterFails.Load(), afterKill.Load())
	}
	if len(ids) <= 200 {
		t.Fatalf("no write was acknowledged during the test")
	}
	// A document written with one node down is readable.
	hits, err := b.Lexical(ctx, store.LexicalQuery{Text: "term" + strconv.Itoa(len(ids)-1), K: 1})
	if err != nil || len(hits) == 0 {
		t.Fatalf("late write not searchable: %v %v", hits, err)
	}
}
