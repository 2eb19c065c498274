package answer

// The learned ranker's weights (see doc.go): fitted by learn_test.go on all
// 1,190 XQuAD questions of each of en de es zh ar hi ru (BM25 k 5
// contexts), as a softmax over each question's candidates; the harness
// prints this file's entries. Features not listed weigh 0.

// lexWeights rank without an embedder (fZ … stay 0).
var lexWeights = features{
	fOwn:          5.3475,
	fPrev:         0.9228,
	fNext:         1.3142,
	fLogHand:      0.4264,
	fNoMatch:      2.8008,
	fRank:         -0.0671,
	fChunkGap:     2.0267,
	fAfterBest:    -0.2808,
	fBeforeBest:   -0.1101,
	fChunkRank:    1.4881,
	fPos:          -0.4875,
	fFirst:        -0.3278,
	fLast:         0.2429,
	fLen:          0.3383,
	fNovel:        -3.5921,
	fNoNovel:      -4.4631,
	fNewNumber:    -0.0975,
	fNumYes:       0.5020,
	fNumNo:        -0.6712,
	fPersonYes:    0.3330,
	fPersonNo:     -1.3093,
	fQuestion:     -1.6094,
	fProse:        1.0000,
	fHeading:      -0.9163,
	fSubject:      0.0965,
	fHandRel:      1.4359,
	fPrevHand:     0.5454,
	fNextHand:     0.2839,
	fNewName:      -0.0387,
	fNoMatchAfter: 0.8369,
}

// embWeights rank with the collection's embedder (multilingual-e5-small when fitted).
var embWeights = features{
	fOwn:          3.9268,
	fPrev:         1.3537,
	fNext:         1.7682,
	fLogHand:      0.1792,
	fNoMatch:      1.9184,
	fRank:         -0.2246,
	fChunkGap:     1.3031,
	fAfterBest:    -0.5067,
	fBeforeBest:   -0.0881,
	fChunkRank:    0.8298,
	fPos:          -0.3125,
	fFirst:        -0.4335,
	fLast:         0.1768,
	fLen:          0.1070,
	fNovel:        -1.2057,
	fNoNovel:      -5.4782,
	fNewNumber:    -0.1555,
	fNumYes:       0.4949,
	fNumNo:        -0.6760,
	fPersonYes:    0.3770,
	fPersonNo:     -1.4619,
	fQuestion:     -1.6094,
	fProse:        1.0000,
	fHeading:      -0.9163,
	fSubject:      -0.1219,
	fZ:            1.8117,
	fZPrev:        0.1668,
	fZNext:        0.1795,
	fZGap:         1.4694,
	fOwnZ:         -0.1602,
	fAfterBestZ:   0.2280,
	fHandRel:      0.9918,
	fPrevHand:     -0.0081,
	fNextHand:     -0.1664,
	fNewName:      0.0577,
	fNoMatchAfter: 0.7997,
	fZPos:         0.7013,
}

// lateWeights rank with an embedder that also gives token vectors
// (TokenEmbedder): until fitted, embWeights (the late-interaction
// features weigh 0).
var lateWeights = embWeights
