package quarry_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestSearchBatchMatchesSearch: a batch returns, in request order, what
// each request's Search returns; the batch is bounded; an invalid request
// fails the batch naming its index before anything runs; a cancelled
// context fails it.
func TestSearchBatchMatchesSearch(t *testing.T) {
	ctx := context.Background()
	col, qs := loadSciFact(t)
	var reqs []quarry.SearchRequest
	for i := 0; i < quarry.MaxSearchBatch; i++ {
		reqs = append(reqs, quarry.SearchRequest{Query: qs[i].Text, K: 10 + i%5, Mode: quarry.ModeBM25})
	}
	res, err := col.SearchBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("%d responses for %d requests", len(res), len(reqs))
	}
	for i, req := range reqs {
		one, err := col.Search(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res[i].Results) == 0 || !reflect.DeepEqual(res[i].Results, one.Results) || res[i].Mode != one.Mode {
			t.Fatalf("request %d (%q): batch %d results, alone %d; differ", i, req.Query, len(res[i].Results), len(one.Results))
		}
	}

	_, err = col.SearchBatch(ctx, append(reqs, reqs[0]))
	var fe *quarry.FieldError
	if !errors.Is(err, quarry.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "requests" {
		t.Fatalf("%d requests: got %v, want ErrInvalid naming requests", len(reqs)+1, err)
	}
	if _, err := col.SearchBatch(ctx, nil); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("empty batch: got %v, want ErrInvalid", err)
	}

	bad := append([]quarry.SearchRequest(nil), reqs[:5]...)
	bad[3].K = quarry.MaxK + 1
	_, err = col.SearchBatch(ctx, bad)
	var be *quarry.BatchError
	if !errors.As(err, &be) || be.Index != 3 || !errors.Is(err, quarry.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "k" {
		t.Fatalf("invalid request 3: got %v, want a BatchError for index 3 wrapping ErrInvalid naming k", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := col.SearchBatch(cctx, reqs); !errors.Is(err, context.Canceled) || !errors.As(err, &be) {
		t.Fatalf("cancelled: got %v, want a BatchError wrapping context.Canceled", err)
	}
}
