package text_test

import (
	"fmt"

	"github.com/quarry-rag/quarry/internal/text"
)

func Example() {
	an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: "en"})
	if err != nil {
		panic(err)
	}
	doc := "Dr. Smith's mice were running. They stopped at 3.5 km!"
	fmt.Println(an.AppendTerms(nil, doc))
	for _, sp := range text.Sentences(doc) {
		fmt.Printf("%q\n", doc[sp.Start:sp.End])
	}
	fmt.Println(text.CountTokens(doc), "tokens")
	lang, _ := text.DetectLanguage("Die Katze schläft auf dem warmen Sofa im Wohnzimmer.")
	fmt.Println(lang)
	// Output:
	// [dr smith mice run stop 3.5 km]
	// "Dr. Smith's mice were running."
	// "They stopped at 3.5 km!"
	// 10 tokens
	// de
}
