// Package cache holds Quarry's answer caches: Exact, an LRU with a time to
// live keyed by a canonical request key (bounded by its entry count and,
// with NewExactCost, by the total cost — bytes — of its values), and
// Semantic, which answers a question whose embedding is close enough
// (cosine ≥ threshold) to a cached question asked in the same scope.
//
// Both store the collection generation with each entry and treat an entry
// from another generation as absent (and drop it): any committed write to
// the collection invalidates every cached answer without a scan. Callers
// put everything that must match exactly — tenant, sorted principals,
// filter, model, decoding parameters — into the key (Exact) or the scope
// (Semantic); Key builds such a string unambiguously.
//
// Concurrency: both caches are safe for concurrent use; each has one mutex
// held only for map and list updates, never across I/O. Values are stored
// as given: callers must not mutate a value after Put or after Get.
package cache
