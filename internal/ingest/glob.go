package ingest

import (
	"fmt"
	"path"
	"strings"
)

// glob is a compiled include/exclude pattern. Patterns use forward slashes
// and path.Match syntax per segment, plus "**" as a whole segment matching
// zero or more segments. A pattern without a slash matches the base name at
// any depth ("*.md" is "**/*.md"), as in .gitignore.
type glob struct {
	pattern string
	segs    []string
}

func compileGlob(p string) (glob, error) {
	p = strings.TrimPrefix(p, "./")
	if p == "" {
		return glob{}, fmt.Errorf("ingest: empty glob pattern")
	}
	if !strings.Contains(p, "/") {
		p = "**/" + p
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if strings.Contains(s, "**") {
			return glob{}, fmt.Errorf("ingest: glob %q: \"**\" must be a whole path segment", p)
		}
		if _, err := path.Match(s, ""); err != nil {
			return glob{}, fmt.Errorf("ingest: glob %q: %w", p, err)
		}
	}
	return glob{pattern: p, segs: segs}, nil
}

// match reports whether the slash-separated relative path rel matches.
func (g glob) match(rel string) bool {
	return matchSegs(g.segs, strings.Split(rel, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" { // collapse runs of **
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

func compileGlobs(ps []string) ([]glob, error) {
	gs := make([]glob, 0, len(ps))
	for _, p := range ps {
		g, err := compileGlob(p)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, nil
}

func matchAny(gs []glob, rel string) bool {
	for _, g := range gs {
		if g.match(rel) {
			return true
		}
	}
	return false
}
