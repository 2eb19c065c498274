package quarry_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// The crash test runs a child process (this test binary, re-executed) that
// ingests documents and prints "ack ID VERSION" after each Upsert returns.
// The parent kills it with SIGKILL at a random moment, reopens the store and
// checks that nothing acknowledged is lost, nothing is partial, and the
// index agrees with the store.

const (
	crashChildEnv = "QUARRY_CRASH_CHILD_DIR"
	crashRoundEnv = "QUARRY_CRASH_ROUND"
)

// Round r of the crash test writes content generations 3r+1 … 3r+3, so a
// document's generation only grows across rounds.

var crashWords = strings.Fields(`alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho
sigma tau upsilon phi chi psi omega river stone quarry granite marble basalt slate limestone sand clay
protein enzyme cell tissue receptor gene vaccine trial dose cohort outcome risk ratio interval model`)

// crashDocText is the text of document i at version v: a few paragraphs, so
// documents have several chunks, with a unique marker token per version.
func crashDocText(i, v int) string {
	r := rand.New(rand.NewSource(int64(i*7919 + v)))
	var b strings.Builder
	paras := 2 + r.Intn(4) + v // versions differ in length, so chunk counts change
	for p := 0; p < paras; p++ {
		fmt.Fprintf(&b, "marker%dv%d ", i, v)
		for w := 0; w < 40+r.Intn(120); w++ {
			b.WriteString(crashWords[r.Intn(len(crashWords))])
			if w%12 == 11 {
				b.WriteString(". ")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

func crashChild(dir string) {
	eng, err := quarry.Open(dir, &quarry.Options{DefaultCollection: quarry.CollectionConfig{
		Chunking: quarry.ChunkingConfig{Size: 64},
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	col, err := eng.EnsureCollection(ctx, "default")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child collection:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	const n = 3000
	for v := 3*round + 1; v <= 3*round+3; v++ {
		for start := 0; start < n; start += 40 {
			var docs []quarry.Document
			for i := start; i < start+40 && i < n; i++ {
				docs = append(docs, quarry.Document{
					ID: "doc-" + strconv.Itoa(i), Title: fmt.Sprintf("Document %d", i),
					Text: crashDocText(i, v), Tenant: []string{"", "acme"}[i%2],
				})
			}
			if _, err := col.Upsert(ctx, docs, nil); err != nil {
				fmt.Fprintln(os.Stderr, "child upsert:", err)
				os.Exit(3)
			}
			for _, d := range docs {
				fmt.Fprintf(out, "ack %s %d\n", d.ID, v)
			}
			out.Flush()
		}
	}
	eng.Close()
	os.Exit(0)
}

func TestCrashDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary; skipped in -short mode")
	}
	dir := t.TempDir()
	acked := map[string]int{} // id → highest acknowledged version
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < 3; round++ {
		killAfter := 200 + rng.Intn(7000)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		lines := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ack" {
				continue
			}
			v, _ := strconv.Atoi(f[2])
			acked[f[1]] = max(acked[f[1]], v)
			lines++
			if lines == killAfter {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		for sc.Scan() { // drain what the pipe still holds: those were acked too
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ack" {
				v, _ := strconv.Atoi(f[2])
				acked[f[1]] = max(acked[f[1]], v)
			}
		}
		err = cmd.Wait()
		t.Logf("round %d: killed after %d acks (%v); %d documents acknowledged so far", round, lines, err, len(acked))
		checkCrashStore(t, dir, acked, 3*round+3)
	}
}

func checkCrashStore(t *testing.T, dir string, acked map[string]int, maxGen int) {
	t.Helper()
	ctx := context.Background()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer eng.Close()
	col, err := eng.Collection(context.Background(), "default")
	if err != nil {
		if len(acked) == 0 {
			return
		}
		t.Fatalf("collection missing after kill with %d acknowledged documents: %v", len(acked), err)
	}
	if err := col.Verify(ctx); err != nil {
		t.Fatalf("store and index disagree after kill: %v", err)
	}
	checked := 0
	for id, v := range acked {
		d, err := col.Get(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged document %s is missing: %v", id, err)
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(id, "doc-"))
		// The stored content is the acknowledged generation or a later one
		// whose commit finished before the kill, and it is whole.
		gen := 0
		for g := v; g <= maxGen; g++ {
			if d.Text == crashDocText(i, g) {
				gen = g
				break
			}
		}
		if gen == 0 {
			t.Fatalf("%s: stored text is no generation ≥ the acknowledged %d (version %d, %d bytes)", id, v, d.Version, len(d.Text))
		}
		if checked < 200 { // the index agrees: the version's marker finds it, in its tenant only
			marker := fmt.Sprintf("marker%dv%d", i, gen)
			res, err := col.Search(ctx, quarry.SearchRequest{Query: marker, K: 5, Tenant: d.Tenant})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Results) == 0 || res.Results[0].DocID != id {
				t.Fatalf("search for %s did not return %s: %+v", marker, id, res.Results)
			}
			old := fmt.Sprintf("marker%dv%d", i, gen-1)
			if res, _ := col.Search(ctx, quarry.SearchRequest{Query: old, K: 5, Tenant: d.Tenant}); len(res.Results) > 0 {
				t.Fatalf("search for the replaced version's marker %s still finds %v", old, res.Results[0].ChunkID)
			}
		}
		checked++
	}
}
