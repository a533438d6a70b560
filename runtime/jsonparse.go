package runtime

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// The native JSON.parse: goja's own decodes through encoding/json's token
// API, which costs most of a JSON handler's time. This one parses the text
// in one pass and builds goja values directly. Anything it does not handle
// exactly like the spec (a reviver, lone surrogates, a syntax error) falls
// back to goja's, so results and error messages stay the standard ones.

// maxJSONDepth bounds nesting: parsing recurses, and a deeply nested body
// would otherwise grow a goroutine stack without bound.
const maxJSONDepth = 1000

var errJSONFallback = errors.New("json: use the standard parser")

type jsonParser struct {
	vm    *goja.Runtime
	s     string
	i     int
	depth int
	vals  []any // scratch stack for array items
}

// installJSONParse replaces JSON.parse on vm.
func installJSONParse(vm *goja.Runtime) {
	jsonObj := vm.Get("JSON").ToObject(vm)
	orig, _ := goja.AssertFunction(jsonObj.Get("parse"))
	p := &jsonParser{vm: vm}
	parse := func(call goja.FunctionCall) goja.Value {
		if len(call.Arguments) > 1 && !goja.IsUndefined(call.Arguments[1]) {
			return fallbackJSON(vm, orig, call)
		}
		text := call.Argument(0).String()
		v, err := p.parse(text)
		if err != nil {
			return fallbackJSON(vm, orig, call)
		}
		return v
	}
	fn := vm.ToValue(parse).ToObject(vm)
	_ = fn.DefineDataProperty("name", vm.ToValue("parse"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = fn.DefineDataProperty("length", vm.ToValue(2), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = jsonObj.DefineDataProperty("parse", fn, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

func fallbackJSON(vm *goja.Runtime, orig goja.Callable, call goja.FunctionCall) goja.Value {
	if !jsonDepthOK(call.Argument(0).String()) {
		panic(vm.NewGoError(errors.New("JSON.parse: nesting deeper than 1000")))
	}
	v, err := orig(call.This, call.Arguments...)
	if err != nil {
		panic(err)
	}
	return v
}

func (p *jsonParser) parse(s string) (v goja.Value, err error) {
	p.s, p.i, p.depth = s, 0, 0
	defer func() {
		p.s = ""
		clear(p.vals[:cap(p.vals)])
		p.vals = p.vals[:0]
	}()
	p.ws()
	v, err = p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, errJSONFallback
	}
	return v, nil
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (goja.Value, error) {
	if p.i >= len(p.s) {
		return nil, errJSONFallback
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.vm.ToValue(s), nil
	case c == 't' && len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "true":
		p.i += 4
		return p.vm.ToValue(true), nil
	case c == 'f' && len(p.s)-p.i >= 5 && p.s[p.i:p.i+5] == "false":
		p.i += 5
		return p.vm.ToValue(false), nil
	case c == 'n' && len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "null":
		p.i += 4
		return goja.Null(), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errJSONFallback
}

func (p *jsonParser) number() (goja.Value, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, errJSONFallback
	}
	if p.s[p.i] == '0' {
		p.i++
	} else if p.s[p.i] >= '1' && p.s[p.i] <= '9' {
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
	} else {
		return nil, errJSONFallback
	}
	integer := true
	if p.i < len(p.s) && p.s[p.i] == '.' {
		integer = false
		p.i++
		d := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return nil, errJSONFallback
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		d := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return nil, errJSONFallback
		}
	}
	lit := p.s[start:p.i]
	if integer && len(lit) < 16 && lit != "-0" {
		n, err := strconv.ParseInt(lit, 10, 64)
		if err == nil {
			return p.vm.ToValue(n), nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		// Out of range parses to ±Inf in JS as in Go; anything else is odd.
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return nil, errJSONFallback
		}
	}
	return p.vm.ToValue(f), nil
}

// str reads a string literal. Text without escapes is sliced, not copied.
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", errJSONFallback
		case c >= utf8.RuneSelf:
			// Go strings from goja are UTF-8; invalid sequences cannot
			// come from JS text, so any multibyte rune is passed through.
			p.i++
		default:
			p.i++
		}
	}
	return "", errJSONFallback
}

func (p *jsonParser) strEscaped(start int) (string, error) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", errJSONFallback
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", errJSONFallback
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSONFallback
			}
			if utf16.IsSurrogate(r) {
				// Only a proper pair maps to UTF-8; a lone surrogate is
				// valid JS text that Go strings cannot hold.
				if r >= 0xdc00 || len(p.s)-p.i < 6 || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
					return "", errJSONFallback
				}
				p.i += 2
				r2, ok := p.hex4()
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return "", errJSONFallback
				}
				r = utf16.DecodeRune(r, r2)
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errJSONFallback
		}
	}
	return "", errJSONFallback
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *jsonParser) object() (goja.Value, error) {
	if p.depth++; p.depth > maxJSONDepth {
		panic(p.vm.NewGoError(errors.New("JSON.parse: nesting deeper than 1000")))
	}
	defer func() { p.depth-- }()
	p.i++ // {
	o := p.vm.NewObject()
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, errJSONFallback
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errJSONFallback
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if k == "__proto__" {
			// An own property, as CreateDataProperty makes; Set would
			// change the prototype.
			err = o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		} else {
			err = o.Set(k, v)
		}
		if err != nil {
			return nil, errJSONFallback
		}
		p.ws()
		if p.i >= len(p.s) {
			return nil, errJSONFallback
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return o, nil
		default:
			return nil, errJSONFallback
		}
	}
}

func (p *jsonParser) array() (goja.Value, error) {
	if p.depth++; p.depth > maxJSONDepth {
		panic(p.vm.NewGoError(errors.New("JSON.parse: nesting deeper than 1000")))
	}
	defer func() { p.depth-- }()
	p.i++ // [
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return p.vm.NewArray(), nil
	}
	base := len(p.vals)
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.vals = append(p.vals, v)
		p.ws()
		if p.i >= len(p.s) {
			return nil, errJSONFallback
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
		case ']':
			p.i++
			items := make([]any, len(p.vals)-base)
			copy(items, p.vals[base:])
			clear(p.vals[base:])
			p.vals = p.vals[:base]
			return p.vm.NewArray(items...), nil
		default:
			return nil, errJSONFallback
		}
	}
}

// jsonDepthOK says whether text nests no deeper than maxJSONDepth, so the
// standard (recursive) parser may be given it.
func jsonDepthOK(text string) bool {
	depth, inStr := 0, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			if depth++; depth > maxJSONDepth {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return true
}
