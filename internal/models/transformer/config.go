package transformer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrConfig: a model folder's configuration is missing, malformed or
// describes an unsupported model.
var ErrConfig = errors.New("transformer: bad model config")

// Config is the part of a Hugging Face config.json the encoder uses.
type Config struct {
	ModelType             string            `json:"model_type"` // "bert", "xlm-roberta", "roberta"
	Architectures         []string          `json:"architectures"`
	NameOrPath            string            `json:"_name_or_path"`
	HiddenSize            int               `json:"hidden_size"`
	NumAttentionHeads     int               `json:"num_attention_heads"`
	NumHiddenLayers       int               `json:"num_hidden_layers"`
	IntermediateSize      int               `json:"intermediate_size"`
	MaxPositionEmbeddings int               `json:"max_position_embeddings"`
	TypeVocabSize         int               `json:"type_vocab_size"`
	VocabSize             int               `json:"vocab_size"`
	LayerNormEps          float32           `json:"layer_norm_eps"`
	PadTokenID            int               `json:"pad_token_id"`
	HiddenAct             string            `json:"hidden_act"`
	PositionEmbeddingType string            `json:"position_embedding_type"`
	NumLabels             int               `json:"num_labels"`
	ID2Label              map[string]string `json:"id2label"`
}

// roberta reports whether position ids follow RoBERTa (padding_idx+1 offset).
func (c *Config) roberta() bool {
	return c.ModelType == "xlm-roberta" || c.ModelType == "roberta" || c.ModelType == "camembert"
}

// posOffset is the position id of the first token.
func (c *Config) posOffset() int {
	if c.roberta() {
		return c.PadTokenID + 1
	}
	return 0
}

func (c *Config) validate() error {
	switch {
	case c.ModelType != "bert" && !c.roberta():
		return fmt.Errorf("%w: model_type %q (want bert, roberta or xlm-roberta)", ErrConfig, c.ModelType)
	case c.HiddenAct != "" && c.HiddenAct != "gelu":
		return fmt.Errorf("%w: hidden_act %q (only the erf gelu is implemented)", ErrConfig, c.HiddenAct)
	case c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute":
		return fmt.Errorf("%w: position_embedding_type %q", ErrConfig, c.PositionEmbeddingType)
	case c.HiddenSize <= 0 || c.NumAttentionHeads <= 0 || c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("%w: hidden_size %d, %d heads", ErrConfig, c.HiddenSize, c.NumAttentionHeads)
	case c.NumHiddenLayers <= 0 || c.IntermediateSize <= 0:
		return fmt.Errorf("%w: %d layers, intermediate_size %d", ErrConfig, c.NumHiddenLayers, c.IntermediateSize)
	case c.MaxPositionEmbeddings <= c.posOffset()+1:
		return fmt.Errorf("%w: max_position_embeddings %d", ErrConfig, c.MaxPositionEmbeddings)
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.TypeVocabSize == 0 {
		c.TypeVocabSize = 1
	}
	return nil
}

// Pooling selects how token states become one sentence vector.
type Pooling int

const (
	// PoolMean averages the states of all non-padding tokens (special
	// tokens included), as sentence-transformers' mean pooling.
	PoolMean Pooling = iota
	// PoolCLS takes the state of the first token.
	PoolCLS
)

func (p Pooling) String() string {
	if p == PoolCLS {
		return "cls"
	}
	return "mean"
}

// Prompts are the text prefixes a model expects on queries and passages.
// The tokenizer's caller prepends them; the encoder only reports them.
type Prompts struct {
	Query   string
	Passage string
}

// knownPrompts is used when a model folder has no
// config_sentence_transformers.json prompts. Keys are matched against the
// folder name and config _name_or_path, lower-cased.
var knownPrompts = []struct {
	match   string
	prompts Prompts
}{
	{"e5-", Prompts{Query: "query: ", Passage: "passage: "}},
	{"bge-small-en", Prompts{Query: "Represent this sentence for searching relevant passages: "}},
	{"bge-base-en", Prompts{Query: "Represent this sentence for searching relevant passages: "}},
	{"bge-large-en", Prompts{Query: "Represent this sentence for searching relevant passages: "}},
}

func promptsFor(names ...string) Prompts {
	for _, k := range knownPrompts {
		for _, n := range names {
			if strings.Contains(strings.ToLower(n), k.match) {
				return k.prompts
			}
		}
	}
	return Prompts{}
}

// stConfig is what the sentence-transformers files of a folder say.
type stConfig struct {
	pooling   Pooling
	normalize bool
	maxSeqLen int
	prompts   *Prompts
}

// readJSON decodes dir/name into v. A missing file reports false and no
// error.
func readJSON(dir, name string, v any) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("transformer: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	return true, nil
}

// readSTConfig reads modules.json, the Pooling module's config.json,
// sentence_bert_config.json and config_sentence_transformers.json. Without
// modules.json the defaults are mean pooling and L2 normalisation.
func readSTConfig(dir string) (stConfig, error) {
	sc := stConfig{pooling: PoolMean, normalize: true}
	var modules []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	ok, err := readJSON(dir, "modules.json", &modules)
	if err != nil {
		return sc, err
	}
	if ok {
		sc.normalize = false
		for _, m := range modules {
			switch {
			case strings.HasSuffix(m.Type, ".Normalize"):
				sc.normalize = true
			case strings.HasSuffix(m.Type, ".Pooling"):
				var pc struct {
					CLS      bool   `json:"pooling_mode_cls_token"`
					Mean     bool   `json:"pooling_mode_mean_tokens"`
					Max      bool   `json:"pooling_mode_max_tokens"`
					MeanSqrt bool   `json:"pooling_mode_mean_sqrt_len_tokens"`
					Mode     string `json:"pooling_mode"`
				}
				if _, err := readJSON(dir, filepath.Join(m.Path, "config.json"), &pc); err != nil {
					return sc, err
				}
				switch {
				case pc.Max || pc.MeanSqrt || (pc.CLS && pc.Mean):
					return sc, fmt.Errorf("%w: unsupported pooling %+v", ErrConfig, pc)
				case pc.CLS || pc.Mode == "cls":
					sc.pooling = PoolCLS
				default:
					sc.pooling = PoolMean
				}
			case strings.HasSuffix(m.Type, ".Transformer"):
			default:
				return sc, fmt.Errorf("%w: unsupported sentence-transformers module %q", ErrConfig, m.Type)
			}
		}
	}
	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if _, err := readJSON(dir, "sentence_bert_config.json", &sb); err != nil {
		return sc, err
	}
	sc.maxSeqLen = sb.MaxSeqLength
	var cst struct {
		Prompts map[string]string `json:"prompts"`
	}
	if _, err := readJSON(dir, "config_sentence_transformers.json", &cst); err != nil {
		return sc, err
	}
	if len(cst.Prompts) > 0 {
		p := Prompts{Query: cst.Prompts["query"], Passage: cst.Prompts["passage"]}
		if p.Passage == "" {
			p.Passage = cst.Prompts["document"]
		}
		sc.prompts = &p
	}
	return sc, nil
}
