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

// Thai is written without spaces between words and without sentence
// punctuation: the analyzer segments words with a dictionary, and
// Sentences ends sentences at the spaces the segmenter confirms.
func Example_thai() {
	an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: "th"})
	if err != nil {
		panic(err)
	}
	doc := "ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน ภาษาไทยเป็นภาษาราชการของประเทศไทย"
	fmt.Println(an.AppendTerms(nil, doc))
	for _, sp := range text.Sentences(doc) {
		fmt.Println(doc[sp.Start:sp.End])
	}
	fmt.Println(text.ConfidentLanguage(doc))
	// Output:
	// [ประเทศ ไทย ประชากร ประมาณ เจ็ดสิบ ล้าน คน ภาษาไทย ภาษาราชการ ประเทศ ไทย]
	// ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน
	// ภาษาไทยเป็นภาษาราชการของประเทศไทย
	// th
}
