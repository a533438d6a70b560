package runtime

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// The native JSON.stringify for its common form, JSON.stringify(value):
// it walks goja values and appends to one buffer. A replacer, an indent,
// or anything unusual (BigInt, a cycle, a proxy, a Go-wrapped value) goes
// to goja's own implementation, so results and errors stay standard.
// Known difference: a lone surrogate in a string is written as U+FFFD
// instead of a \udXXX escape.

var errStringifyFallback = errors.New("json: use the standard stringify")

const maxStringifyDepth = 1000

type jsonStringifier struct {
	vm    *goja.Runtime
	busy  bool // a getter or toJSON called JSON.stringify again
	buf   []byte
	stack []*goja.Object
}

func installJSONStringify(vm *goja.Runtime) {
	jsonObj := vm.Get("JSON").ToObject(vm)
	orig, _ := goja.AssertFunction(jsonObj.Get("stringify"))
	st := &jsonStringifier{vm: vm}
	stringify := func(call goja.FunctionCall) goja.Value {
		for _, a := range call.Arguments[min(1, len(call.Arguments)):] {
			if !goja.IsUndefined(a) && !goja.IsNull(a) {
				return fallbackStringify(orig, call)
			}
		}
		s := st
		if s.busy {
			s = &jsonStringifier{vm: vm}
		}
		out, ok, err := s.run(call.Argument(0))
		if err != nil {
			return fallbackStringify(orig, call)
		}
		if !ok {
			return goja.Undefined()
		}
		return vm.ToValue(out)
	}
	fn := vm.ToValue(stringify).ToObject(vm)
	_ = fn.DefineDataProperty("name", vm.ToValue("stringify"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = fn.DefineDataProperty("length", vm.ToValue(3), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = jsonObj.DefineDataProperty("stringify", fn, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

func fallbackStringify(orig goja.Callable, call goja.FunctionCall) goja.Value {
	v, err := orig(call.This, call.Arguments...)
	if err != nil {
		panic(err)
	}
	return v
}

func (s *jsonStringifier) run(v goja.Value) (string, bool, error) {
	s.buf = s.buf[:0]
	s.stack = s.stack[:0]
	s.busy = true
	defer func() {
		s.busy = false
		clear(s.stack[:cap(s.stack)])
	}()
	ok, err := s.value(goja.Undefined(), "", v)
	if err != nil || !ok {
		return "", ok, err
	}
	out := string(s.buf)
	if cap(s.buf) > 64<<10 {
		s.buf = nil // do not keep a large buffer in a pooled runtime
	}
	return out, true, nil
}

var (
	typeBool    = reflect.TypeOf(true)
	typeInt64   = reflect.TypeOf(int64(0))
	typeFloat64 = reflect.TypeOf(float64(0))
	typeString  = reflect.TypeOf("")
)

// value appends v, the property key of holder; false means v serializes to
// nothing (undefined, a function, a symbol).
func (s *jsonStringifier) value(holder goja.Value, key string, v goja.Value) (bool, error) {
	if o, ok := v.(*goja.Object); ok {
		if tj, ok := goja.AssertFunction(o.Get("toJSON")); ok {
			r, err := tj(o, s.vm.ToValue(key))
			if err != nil {
				panic(err) // a throwing toJSON is the script's exception
			}
			v = r
		}
	}
	if v == nil || goja.IsUndefined(v) {
		return false, nil
	}
	if goja.IsNull(v) {
		s.buf = append(s.buf, "null"...)
		return true, nil
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		if _, sym := v.(*goja.Symbol); sym {
			return false, nil
		}
		switch v.ExportType() {
		case typeBool:
			s.buf = strconv.AppendBool(s.buf, v.ToBoolean())
		case typeInt64:
			s.buf = strconv.AppendInt(s.buf, v.ToInteger(), 10)
		case typeFloat64:
			f := v.ToFloat()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				s.buf = append(s.buf, "null"...)
			} else {
				s.buf = append(s.buf, v.String()...)
			}
		case typeString:
			s.quote(v.String())
		default: // BigInt
			return false, errStringifyFallback
		}
		return true, nil
	}
	if _, ok := goja.AssertFunction(o); ok {
		return false, nil
	}
	switch o.ClassName() {
	case "Object", "Array":
	default:
		// Date has toJSON (handled above); wrappers (Number, String,
		// Boolean) and the rest may be exotic: let goja decide.
		return false, errStringifyFallback
	}
	if len(s.stack) >= maxStringifyDepth {
		return false, errStringifyFallback
	}
	for _, p := range s.stack {
		if p == o {
			return false, errStringifyFallback // a cycle: goja's TypeError
		}
	}
	s.stack = append(s.stack, o)
	defer func() { s.stack = s.stack[:len(s.stack)-1] }()
	if o.ClassName() == "Array" {
		n := o.Get("length").ToInteger()
		s.buf = append(s.buf, '[')
		for i := int64(0); i < n; i++ {
			if i > 0 {
				s.buf = append(s.buf, ',')
			}
			k := strconv.FormatInt(i, 10)
			ok, err := s.value(o, k, o.Get(k))
			if err != nil {
				return false, err
			}
			if !ok {
				s.buf = append(s.buf, "null"...)
			}
		}
		s.buf = append(s.buf, ']')
		return true, nil
	}
	s.buf = append(s.buf, '{')
	first := true
	for _, k := range o.Keys() {
		mark := len(s.buf)
		if !first {
			s.buf = append(s.buf, ',')
		}
		s.quote(k)
		s.buf = append(s.buf, ':')
		ok, err := s.value(o, k, o.Get(k))
		if err != nil {
			return false, err
		}
		if !ok {
			s.buf = s.buf[:mark]
			continue
		}
		first = false
	}
	s.buf = append(s.buf, '}')
	return true, nil
}

const hexDigits = "0123456789abcdef"

func (s *jsonStringifier) quote(str string) {
	s.buf = append(s.buf, '"')
	start := 0
	for i := 0; i < len(str); {
		c := str[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(str[i:])
			i += size
			continue
		}
		s.buf = append(s.buf, str[start:i]...)
		switch c {
		case '"', '\\':
			s.buf = append(s.buf, '\\', c)
		case '\b':
			s.buf = append(s.buf, '\\', 'b')
		case '\f':
			s.buf = append(s.buf, '\\', 'f')
		case '\n':
			s.buf = append(s.buf, '\\', 'n')
		case '\r':
			s.buf = append(s.buf, '\\', 'r')
		case '\t':
			s.buf = append(s.buf, '\\', 't')
		default:
			s.buf = append(s.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	s.buf = append(s.buf, str[start:]...)
	s.buf = append(s.buf, '"')
}
