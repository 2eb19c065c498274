package embedded

import (
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

func TestConformanceList(t *testing.T) {
	storetest.RunList(t, func(t *testing.T) store.Backend { return open(t, t.TempDir()) })
}
