# Single-threaded hnswlib on the vectors TestPeerComparison wrote; times are
# thread CPU time (time.thread_time), best of 3 rounds, as the Go side.
import sys, time, numpy as np, hnswlib
def load(p):
    b = open(p, 'rb').read()
    n, d = np.frombuffer(b[:8], dtype='<u4')
    return np.frombuffer(b[8:], dtype='<f4').reshape(int(n), int(d))
tag = sys.argv[1]
X = load(f'{tag}.f32'); Q = load(f'{tag}-q.f32')
n, d = X.shape
gt = np.argsort(-(Q @ X.T), axis=1)[:, :10]
p = hnswlib.Index(space='ip', dim=d)
p.init_index(max_elements=n, ef_construction=200, M=16, random_seed=1)
p.set_num_threads(1)
t0, c0 = time.time(), time.thread_time()
p.add_items(X, np.arange(n), num_threads=1)
print(f'hnswlib build wall {time.time()-t0:.2f}s cpu {time.thread_time()-c0:.2f}s')
for ef in [10, 16, 24, 32, 48, 64, 96, 128, 200]:
    p.set_ef(ef)
    best = 1e9
    for _ in range(3):
        c0 = time.thread_time()
        for q in Q:  # one query per call, as Go's Search
            p.knn_query(q, k=10, num_threads=1)
        best = min(best, time.thread_time() - c0)
    L, _ = p.knn_query(Q, k=10, num_threads=1)
    rec = np.mean([len(set(L[i]) & set(gt[i])) / 10 for i in range(len(Q))])
    print(f'hnswlib ef={ef} recall@10 {rec:.4f} QPS per CPU-second (best of 3, per-call) {len(Q)/best:.0f}')
