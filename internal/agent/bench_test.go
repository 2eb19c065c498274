package agent

import (
	"context"
	"sort"
	"testing"
	"time"
)

// overheadPerStep runs a three-step scripted task (search, get_document,
// answer) and returns the agent's own time per step: the run's wall time
// minus the time spent waiting for the model (the scripted server's HTTP
// round trips count as model time).
func overheadPerStep(t testing.TB, a *Agent) time.Duration {
	res, err := a.Run(context.Background(), scopeA, Input{Task: "how are deletes handled?"}, nil)
	if err != nil || res.State != StateAnswered {
		t.Fatalf("%v %+v", err, res)
	}
	over := time.Duration((res.TookMS - res.ModelMS) * float64(time.Millisecond))
	return over / time.Duration(res.Steps)
}

func overheadScript() func(int) fakeReply {
	return func(i int) fakeReply {
		switch i % 3 {
		case 0:
			return call("search", `{"query":"deletes chunks"}`)
		case 1:
			return call("get_document", `{"id":"upserts"}`)
		}
		return fakeReply{Content: "Deleting removes chunks [1]; unchanged upserts are no-ops [2]."}
	}
}

// TestAgentOverhead: the agent's own work per step (validation, tool
// execution on a real engine, fencing, citation checks) stays under 5 ms
// at p50.
func TestAgentOverhead(t *testing.T) {
	f := newFakeModel(t, overheadScript())
	a, _ := testAgent(t, f, ProtocolNative, Budget{})
	var per []time.Duration
	for i := 0; i < 30; i++ {
		per = append(per, overheadPerStep(t, a))
	}
	sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
	p50, p90 := per[len(per)/2], per[len(per)*9/10]
	t.Logf("agent overhead per step excluding model time: p50 %v, p90 %v (30 runs × 3 steps)", p50, p90)
	if p50 > 5*time.Millisecond {
		t.Errorf("p50 overhead %v per step, want < 5ms", p50)
	}
}

// BenchmarkAgentStep reports the overhead per step as a custom metric.
func BenchmarkAgentStep(b *testing.B) {
	f := newFakeModel(b, overheadScript())
	a, _ := testAgent(b, f, ProtocolNative, Budget{})
	var sum time.Duration
	for b.Loop() {
		sum += overheadPerStep(b, a)
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(b.N), "overhead-µs/step")
}
