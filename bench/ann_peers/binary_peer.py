"""FAISS IndexBinaryFlat on the shape of BenchmarkBinaryScan (Go): 116,659
random 384-bit codes, one query per call, top 100 by Hamming distance, one
thread. Prints µs per query (CPU time).

    $QUARRY_HOME/venv-bench/bin/python bench/ann_peers/binary_peer.py
"""
import time

import faiss
import numpy as np

faiss.omp_set_num_threads(1)
rng = np.random.default_rng(9)
n, bits, nq = 116_659, 384, 2000
codes = rng.integers(0, 256, size=(n, bits // 8), dtype=np.uint8)
queries = rng.integers(0, 256, size=(nq, bits // 8), dtype=np.uint8)
index = faiss.IndexBinaryFlat(bits)
index.add(codes)
for i in range(100):
    index.search(queries[i:i + 1], 100)
best = float("inf")
for _ in range(3):
    c0 = time.process_time()
    for i in range(nq):
        index.search(queries[i:i + 1], 100)
    best = min(best, time.process_time() - c0)
print(f"faiss {faiss.__version__} IndexBinaryFlat: {best / nq * 1e6:.1f} µs/query (CPU, best of 3 passes of {nq})")
