package weaviate

import (
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

func TestConformanceList(t *testing.T) {
	url := needWeaviate(t)
	storetest.RunList(t, func(t *testing.T) store.Backend { return openTest(t, url, Config{Consistency: One}) })
}
