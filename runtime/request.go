package runtime

import (
	"net/http"
	"strings"

	"github.com/dop251/goja"

	"github.com/picloud/picloud/runtime/weburl"
)

// checkRequest does in Go what the prelude's new Request would do with an
// incoming request, so that the Request object can be built without
// running its constructor (requestFromGo in js/prelude.js): the URL's
// href, the method normalised, header names lower-cased and values
// trimmed, as pairs for a JS array. ok is false when new Request would
// throw (or the request is otherwise unusual); the engine then takes the
// general path, which throws the standard error.
func checkRequest(in *instance, req *ExecRequest) (href, method string, pairs goja.Value, ok bool) {
	vm := in.vm
	if req.URL == in.lastURL && in.lastHref != "" {
		href = in.lastHref // a runtime often sees the same URL again
	} else {
		u, err := weburl.Parse(req.URL, nil)
		if err != nil {
			return "", "", nil, false
		}
		href = u.Href()
		in.lastURL, in.lastHref = req.URL, href
	}
	method, ok = normalMethod(req.Method)
	if !ok {
		return "", "", nil, false
	}
	if len(req.Body) > 0 && req.Method != http.MethodGet && req.Method != http.MethodHead &&
		(method == http.MethodGet || method == http.MethodHead) {
		return "", "", nil, false // a body with GET or HEAD: new Request throws
	}
	n := 0
	for _, vs := range req.Header {
		n += 2 * len(vs)
	}
	items := make([]any, 0, n)
	for k, vs := range req.Header {
		name, ok := headerName(k)
		if !ok {
			return "", "", nil, false
		}
		nv := vm.ToValue(name)
		for _, v := range vs {
			v, ok := headerValue(v)
			if !ok {
				return "", "", nil, false
			}
			items = append(items, nv, v)
		}
	}
	return href, method, vm.NewArray(items...), true
}

// normalMethod is the Request constructor's method rule: a token,
// CONNECT, TRACE and TRACK refused, the standard methods upper-cased.
func normalMethod(m string) (string, bool) {
	if !isToken(m) {
		return "", false
	}
	up := strings.ToUpper(m)
	switch up {
	case "CONNECT", "TRACE", "TRACK":
		return "", false
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH":
		return up, true
	}
	return m, true
}

// headerName is the Headers rule for names: a token, lower-cased.
func headerName(k string) (string, bool) {
	if !isToken(k) {
		return "", false
	}
	return strings.ToLower(k), true
}

// headerValue is the Headers rule for values: HTTP whitespace trimmed at
// both ends, NUL, CR and LF refused.
func headerValue(v string) (string, bool) {
	v = strings.Trim(v, " \t\r\n")
	if strings.ContainsAny(v, "\x00\r\n") {
		return "", false
	}
	return v, true
}

// isToken reports whether s is a non-empty HTTP token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// responseParts is a Response as the prelude's unwrapResponse hands it
// over (native.setResponse).
type responseParts struct {
	status, pairs, body, reader goja.Value
	contentType                 goja.Value // the only header when pairs is null
}

// responseNatives are the natives of the request/response fast paths.
// They take goja.FunctionCall: goja calls those without reflection.
func responseNatives(in *instance, n *goja.Object) {
	vm := in.vm
	_ = n.Set("setResponse", func(c goja.FunctionCall) goja.Value {
		in.out = responseParts{status: c.Argument(0), pairs: c.Argument(1), body: c.Argument(2), reader: c.Argument(3),
			contentType: c.Argument(4)}
		return goja.Undefined()
	})
	_ = n.Set("waited", func(goja.FunctionCall) goja.Value {
		if x := in.exec; x != nil {
			x.waited = true
		}
		return goja.Undefined()
	})
	_ = n.Set("utf8Decode", func(c goja.FunctionCall) goja.Value {
		var d utf8Decoder
		s, _ := d.decode(bytesOf(vm, c.Argument(0)), false, false, false)
		return vm.ToValue(s)
	})
	_ = n.Set("utf8Encode", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(vm.NewArrayBuffer([]byte(c.Argument(0).String())))
	})
	_ = n.Set("headerValue", func(c goja.FunctionCall) goja.Value {
		arg := c.Argument(0)
		s := arg.String()
		v, ok := headerValue(s)
		if !ok {
			return goja.Null()
		}
		if len(v) == len(s) {
			return arg // unchanged: no new string
		}
		return vm.ToValue(v)
	})
}
