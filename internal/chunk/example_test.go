package chunk_test

import (
	"fmt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/chunk"
)

func Example() {
	doc := &base.Document{
		ID:   "notes",
		Text: "Intro line.\n# Setup\nInstall it. Then run it. Done.",
		Sections: []base.Section{
			{Title: "Setup", Level: 1, Start: 12, End: 50},
		},
	}
	c, err := chunk.New(chunk.Config{Size: 5})
	if err != nil {
		panic(err)
	}
	for _, ch := range c.Chunk(doc) {
		fmt.Printf("%s %q section=%q tokens=%d\n", ch.ID, ch.Text, ch.Section, ch.Tokens)
	}
	// Output:
	// notes#0 "Intro line." section="" tokens=2
	// notes#1 "# Setup\nInstall it." section="Setup" tokens=3
	// notes#2 "Then run it. Done." section="Setup" tokens=4
}
