package tools

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Calculator limits.
const (
	MaxExprBytes = 256
	maxExprDepth = 32
)

// CalculatorArgs are the parameters of calculator.
type CalculatorArgs struct {
	Expression string `json:"expression" jsonschema:"minLength=1,maxLength=256,description=arithmetic: numbers + - * / % ^ ( ) and sqrt abs ln log10 exp floor ceil round min max; constants pi e"`
}

// Calculator returns the calculator tool.
func Calculator() *Tool {
	return New(NameCalculator, "Evaluate an arithmetic expression exactly as written.", false,
		func(_ context.Context, _ Scope, a CalculatorArgs) (Result, error) {
			v, err := Eval(a.Expression)
			if err != nil {
				return Result{}, err
			}
			s := strconv.FormatFloat(v, 'g', -1, 64)
			return Result{Text: s, Data: map[string]any{"value": v}}, nil
		})
}

// CurrentTimeArgs are the parameters of current_time.
type CurrentTimeArgs struct {
	Timezone string `json:"timezone,omitempty" jsonschema:"maxLength=64,description=IANA time zone such as Europe/Paris (default UTC)"`
}

// CurrentTime returns the current_time tool reading now (nil: time.Now).
func CurrentTime(now func() time.Time) *Tool {
	if now == nil {
		now = time.Now
	}
	return New(NameCurrentTime, "The current date and time.", false,
		func(_ context.Context, _ Scope, a CurrentTimeArgs) (Result, error) {
			loc := time.UTC
			if a.Timezone != "" {
				l, err := time.LoadLocation(a.Timezone)
				if err != nil || strings.Contains(a.Timezone, "..") {
					return Result{}, fmt.Errorf("unknown time zone %q", clip(a.Timezone, 64))
				}
				loc = l
			}
			t := now().In(loc)
			s := t.Format(time.RFC3339)
			return Result{Text: s + " (" + t.Weekday().String() + ")", Data: map[string]any{"time": s, "timezone": loc.String()}}, nil
		})
}

// Eval evaluates an arithmetic expression: numbers, + - * / % ^ (power,
// right-associative), parentheses, unary signs, the functions sqrt abs ln
// log10 exp floor ceil round min max and the constants pi and e. It is
// bounded in length and nesting, and rejects a non-finite result.
func Eval(expr string) (float64, error) {
	if len(expr) > MaxExprBytes {
		return 0, fmt.Errorf("expression is %d bytes; the limit is %d", len(expr), MaxExprBytes)
	}
	p := &parser{s: expr}
	v, err := p.expr(0)
	if err != nil {
		return 0, err
	}
	p.space()
	if p.i < len(p.s) {
		return 0, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:p.i+1], p.i)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("the result is not a finite number")
	}
	return v, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// expr := term (('+'|'-') term)*
func (p *parser) expr(depth int) (float64, error) {
	if depth > maxExprDepth {
		return 0, fmt.Errorf("expression nests deeper than %d", maxExprDepth)
	}
	v, err := p.term(depth)
	if err != nil {
		return 0, err
	}
	for {
		switch p.peek() {
		case '+', '-':
			op := p.s[p.i]
			p.i++
			w, err := p.term(depth)
			if err != nil {
				return 0, err
			}
			if op == '+' {
				v += w
			} else {
				v -= w
			}
		default:
			return v, nil
		}
	}
}

// term := unary (('*'|'/'|'%') unary)*
func (p *parser) term(depth int) (float64, error) {
	v, err := p.unary(depth)
	if err != nil {
		return 0, err
	}
	for {
		switch p.peek() {
		case '*', '/', '%':
			op := p.s[p.i]
			p.i++
			w, err := p.unary(depth)
			if err != nil {
				return 0, err
			}
			switch op {
			case '*':
				v *= w
			case '/':
				if w == 0 {
					return 0, fmt.Errorf("division by zero")
				}
				v /= w
			case '%':
				if w == 0 {
					return 0, fmt.Errorf("modulo by zero")
				}
				v = math.Mod(v, w)
			}
		default:
			return v, nil
		}
	}
}

// unary := ('+'|'-') unary | power
func (p *parser) unary(depth int) (float64, error) {
	if depth > maxExprDepth {
		return 0, fmt.Errorf("expression nests deeper than %d", maxExprDepth)
	}
	switch p.peek() {
	case '-':
		p.i++
		v, err := p.unary(depth + 1)
		return -v, err
	case '+':
		p.i++
		return p.unary(depth + 1)
	}
	return p.power(depth)
}

// power := primary ('^' unary)?
func (p *parser) power(depth int) (float64, error) {
	v, err := p.primary(depth)
	if err != nil {
		return 0, err
	}
	if p.peek() == '^' {
		p.i++
		w, err := p.unary(depth + 1)
		if err != nil {
			return 0, err
		}
		v = math.Pow(v, w)
	}
	return v, nil
}

var funcs1 = map[string]func(float64) float64{
	"sqrt": math.Sqrt, "abs": math.Abs, "ln": math.Log, "log10": math.Log10, "exp": math.Exp,
	"floor": math.Floor, "ceil": math.Ceil, "round": math.Round,
}

var funcs2 = map[string]func(float64, float64) float64{"min": math.Min, "max": math.Max}

// primary := number | '(' expr ')' | name | name '(' expr (',' expr)? ')'
func (p *parser) primary(depth int) (float64, error) {
	c := p.peek()
	switch {
	case c == 0:
		return 0, fmt.Errorf("unexpected end of expression")
	case c == '(':
		p.i++
		v, err := p.expr(depth + 1)
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("missing ')' at offset %d", p.i)
		}
		p.i++
		return v, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
			j := p.i + 1
			if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
				j++
			}
			if j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
				for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
					j++
				}
				p.i = j
			}
		}
		v, err := strconv.ParseFloat(p.s[start:p.i], 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", p.s[start:p.i])
		}
		return v, nil
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
			p.i++
		}
		name := strings.ToLower(p.s[start:p.i])
		switch name {
		case "pi":
			return math.Pi, nil
		case "e":
			return math.E, nil
		}
		f1, ok1 := funcs1[name]
		f2, ok2 := funcs2[name]
		if !ok1 && !ok2 {
			return 0, fmt.Errorf("unknown name %q", clip(name, 32))
		}
		if p.peek() != '(' {
			return 0, fmt.Errorf("%s needs '('", name)
		}
		p.i++
		a, err := p.expr(depth + 1)
		if err != nil {
			return 0, err
		}
		if ok2 {
			if p.peek() != ',' {
				return 0, fmt.Errorf("%s takes two arguments", name)
			}
			p.i++
			b, err := p.expr(depth + 1)
			if err != nil {
				return 0, err
			}
			a = f2(a, b)
		} else {
			a = f1(a)
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("missing ')' after %s arguments", name)
		}
		p.i++
		return a, nil
	}
	return 0, fmt.Errorf("unexpected %q at offset %d", string(c), p.i)
}
