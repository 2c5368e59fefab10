package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the configuration file at path over Default and validates it.
// Every error about the content is an *Error: one line "FILE:LINE: what (the fix)".
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	l := &loader{file: path, dir: filepath.Dir(path), cfg: Default(), lines: map[string]int{}}
	l.cfg.File = path
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, l.syntax(err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" { // a file of comments only
		root = &yaml.Node{Kind: yaml.MappingNode, Line: root.Line}
	}
	l.root = root
	if err := l.top(root); err != nil {
		return nil, err
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

type loader struct {
	file, dir string
	cfg       *Config
	root      *yaml.Node
	lines     map[string]int // line of each key that was set, by dotted name
}

func (l *loader) errAt(line int, fix, format string, a ...any) error {
	return &Error{File: l.file, Line: line, What: fmt.Sprintf(format, a...), Fix: fix}
}

// parserProblems are yaml.v3's parser (not scanner) error messages.
var parserProblems = []string{"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected key", "did not find expected node content"}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax turns a YAML parser error into an *Error.
func (l *loader) syntax(err error) error {
	msg := strings.SplitN(err.Error(), "\n", 2)[0]
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if contains(parserProblems, msg) {
			line++ // yaml.v3 reports a parser error's line 0-based (its scanner's are 1-based)
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return l.errAt(line, "fix the YAML syntax", "%s", msg)
}

// line is where key (dotted) was set, else where its section or the file starts.
func (l *loader) line(key string) int {
	for k := key; k != ""; {
		if n, ok := l.lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return l.root.Line
}

// path resolves a path from the file against the file's directory.
func (l *loader) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.dir, p)
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping walks the mapping n of section (dotted name, "" at the top): it
// refuses keys not in known and keys set twice, and calls fn for the others.
func (l *loader) mapping(n *yaml.Node, section string, known []string, fix string, fn func(key string, v *yaml.Node) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return l.errAt(n.Line, fix, "%s is %s, not a mapping", section, kind(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		full := k.Value
		if section != "" {
			full = section + "." + k.Value
		}
		if k.Kind != yaml.ScalarNode || !contains(known, k.Value) {
			return l.errAt(k.Line, "known: "+strings.Join(known, ", "), "unknown key %q", full)
		}
		if first, ok := l.lines[full]; ok {
			return l.errAt(k.Line, "keep one", "%s is set again, first on line %d", full, first)
		}
		l.lines[full] = k.Line
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // "key:" with no value keeps the default
		}
		if err := fn(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "empty"
}

// str is the string value of the scalar v at key.
func (l *loader) str(v *yaml.Node, key, fix string) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", l.errAt(v.Line, fix, "%s is %s, not a single value", key, kind(v))
	}
	return v.Value, nil
}

func (l *loader) boolean(v *yaml.Node, key string) (bool, error) {
	s, err := l.str(v, key, "write true or false")
	if err != nil {
		return false, err
	}
	var b bool
	if err := v.Decode(&b); err != nil || v.Tag != "!!bool" {
		return false, l.errAt(v.Line, "write true or false", "%s: %q is not true or false", key, s)
	}
	return b, nil
}
