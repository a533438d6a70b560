package runtime

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/dop251/goja"

	"github.com/picloud/picloud/runtime/weburl"
)

// webNatives adds the Go side of the Web APIs to n: encodings, crypto,
// URL, forms. The prelude wraps each into its standard JS shape; natives
// signal failures with null or false and leave the JS error type to it.
func webNatives(vm *goja.Runtime, n *goja.Object) {
	set := func(name string, fn any) { _ = n.Set(name, fn) }
	buffer := func(b []byte) goja.Value { return vm.ToValue(vm.NewArrayBuffer(b)) }

	// Encoding.
	set("newDecoder", func() goja.Value { return vm.ToValue(&utf8Decoder{}) })
	set("decode", func(d *utf8Decoder, v goja.Value, fatal, ignoreBOM, stream bool) goja.Value {
		var b []byte
		if v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			b = bytesOf(vm, v)
		}
		s, ok := d.decode(b, fatal, ignoreBOM, stream)
		if !ok {
			*d = utf8Decoder{}
			return goja.Null()
		}
		return vm.ToValue(s)
	})
	set("encodeInto", func(s string, v goja.Value) []int {
		r, w := encodeInto(s, bytesOf(vm, v))
		return []int{r, w}
	})
	set("btoa", func(s string) goja.Value {
		if out, ok := btoa(s); ok {
			return vm.ToValue(out)
		}
		return goja.Null()
	})
	set("atob", func(s string) goja.Value {
		if out, ok := atob(s); ok {
			return vm.ToValue(out)
		}
		return goja.Null()
	})
	set("concat", func(parts []goja.Value) goja.Value {
		var b bytes.Buffer
		for _, p := range parts {
			b.Write(bytesOf(vm, p))
		}
		return buffer(b.Bytes())
	})

	// Crypto.
	set("randomFill", func(v goja.Value) {
		_, _ = rand.Read(bytesOf(vm, v))
	})
	set("randomUUID", func() string { return newUUID() })
	set("digest", func(alg string, data goja.Value) goja.Value {
		h := hashFor(alg)
		if h == nil {
			return goja.Null()
		}
		w := h()
		w.Write(bytesOf(vm, data))
		return buffer(w.Sum(nil))
	})
	set("hmac", func(alg string, key, data goja.Value) goja.Value {
		h := hashFor(alg)
		if h == nil {
			return goja.Null()
		}
		m := hmac.New(h, bytesOf(vm, key))
		m.Write(bytesOf(vm, data))
		return buffer(m.Sum(nil))
	})
	set("hmacVerify", func(alg string, key, sig, data goja.Value) bool {
		h := hashFor(alg)
		if h == nil {
			return false
		}
		m := hmac.New(h, bytesOf(vm, key))
		m.Write(bytesOf(vm, data))
		return hmac.Equal(m.Sum(nil), bytesOf(vm, sig))
	})
	set("timingSafeEqual", func(a, b goja.Value) bool {
		return subtle.ConstantTimeCompare(bytesOf(vm, a), bytesOf(vm, b)) == 1
	})

	// URL and URLSearchParams, backed by weburl.
	// The URL natives run on most requests (new URL(request.url)), so they
	// take goja.FunctionCall: goja calls other signatures by reflection.
	urlArg := func(v goja.Value) *weburl.URL {
		u, ok := v.Export().(*weburl.URL)
		if !ok {
			panic(vm.NewTypeError("not a URL"))
		}
		return u
	}
	set("urlParse", func(call goja.FunctionCall) goja.Value {
		input, base := call.Argument(0).String(), call.Argument(1)
		var u *weburl.URL
		var err error
		if goja.IsUndefined(base) {
			u, err = weburl.Parse(input, nil)
		} else {
			u, err = weburl.ParseWithBase(input, base.String())
		}
		if err != nil {
			return goja.Null()
		}
		return vm.ToValue(u)
	})
	set("urlGet", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(urlGet(vm, urlArg(call.Argument(0)), call.Argument(1).String()))
	})
	set("urlSet", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(urlArg(call.Argument(0)).Set(call.Argument(1).String(), call.Argument(2).String()) == nil) // false: href did not parse
	})
	set("urlSearchParams", func(u *weburl.URL) goja.Value { return vm.ToValue(u.SearchParams()) })
	set("spNew", func(query goja.Value) goja.Value {
		if query == nil || goja.IsUndefined(query) {
			return vm.ToValue(weburl.NewSearchParams())
		}
		return vm.ToValue(weburl.ParseQuery(query.String()))
	})
	set("spLen", func(sp *weburl.SearchParams) int { return sp.Len() })
	set("spAt", func(sp *weburl.SearchParams, i int) goja.Value {
		name, value, ok := sp.At(i)
		if !ok {
			return goja.Null()
		}
		return vm.ToValue([]string{name, value})
	})
	set("spAppend", func(sp *weburl.SearchParams, name, value string) { sp.Append(name, value) })
	set("spSet", func(sp *weburl.SearchParams, name, value string) { sp.Set(name, value) })
	set("spDelete", func(sp *weburl.SearchParams, name string, value goja.Value) {
		sp.Delete(name, optString(value))
	})
	set("spHas", func(sp *weburl.SearchParams, name string, value goja.Value) bool {
		return sp.Has(name, optString(value))
	})
	set("spGet", func(sp *weburl.SearchParams, name string) goja.Value {
		if v, ok := sp.Get(name); ok {
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	set("spGetAll", func(sp *weburl.SearchParams, name string) []string {
		if vs := sp.GetAll(name); vs != nil {
			return vs
		}
		return []string{}
	})
	set("spSort", func(sp *weburl.SearchParams) { sp.Sort() })
	set("spString", func(sp *weburl.SearchParams) string { return sp.String() })

	// Forms.
	set("formParse", func(body goja.Value) []string {
		sp := weburl.ParseQuery("?" + string(bytesOf(vm, body)))
		out := make([]string, 0, 2*sp.Len())
		sp.Each(func(n, v string) bool { out = append(out, n, v); return true })
		return out
	})
	set("multipartParse", func(contentType string, body goja.Value) goja.Value {
		parts, err := parseMultipart(contentType, bytesOf(vm, body))
		if err != nil {
			panic(vm.NewTypeError("Failed to parse multipart body: " + err.Error()))
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			o := vm.NewObject()
			_ = o.Set("name", p.name)
			if p.file {
				_ = o.Set("filename", p.filename)
				_ = o.Set("type", p.contentType)
				_ = o.Set("data", vm.NewArrayBuffer(p.data))
			} else {
				_ = o.Set("value", string(p.data))
			}
			out[i] = o
		}
		return vm.ToValue(out)
	})
	// multipartEncode takes entries [name, value, filename, type] where a
	// null filename marks a string value.
	set("multipartEncode", func(entries [][]goja.Value) []goja.Value {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, e := range entries {
			name := e[0].String()
			var w io.Writer
			var err error
			if goja.IsNull(e[2]) {
				w, err = mw.CreateFormField(name)
				if err == nil {
					_, err = io.WriteString(w, e[1].String())
				}
			} else {
				h := make(textproto.MIMEHeader)
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(name), escapeQuotes(e[2].String())))
				ct := e[3].String()
				if ct == "" {
					ct = "application/octet-stream"
				}
				h.Set("Content-Type", ct)
				w, err = mw.CreatePart(h)
				if err == nil {
					_, err = w.Write(bytesOf(vm, e[1]))
				}
			}
			if err != nil {
				panic(vm.NewGoError(fmt.Errorf("encoding form data: %w", err)))
			}
		}
		_ = mw.Close()
		return []goja.Value{vm.ToValue("multipart/form-data; boundary=" + mw.Boundary()), buffer(b.Bytes())}
	})
}

func optString(v goja.Value) *string {
	if v == nil || goja.IsUndefined(v) {
		return nil
	}
	s := v.String()
	return &s
}

// hashFor maps a WebCrypto algorithm name (already upper-cased) to a hash.
func hashFor(alg string) func() hash.Hash {
	switch strings.ToUpper(alg) {
	case "SHA-1":
		return sha1.New
	case "SHA-256":
		return sha256.New
	case "SHA-384":
		return sha512.New384
	case "SHA-512":
		return sha512.New
	case "MD5": // not WebCrypto, but Workers offers it
		return md5.New
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&0xf])
	}
	return string(out)
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "%22", "\r", "%0D", "\n", "%0A")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

type formPart struct {
	name, filename, contentType string
	file                        bool
	data                        []byte
}

// errNoBoundary means a multipart content type lacks its boundary.
var errNoBoundary = errors.New("no boundary in content type")

// parseMultipart reads a multipart/form-data body whole; the body is
// already bounded by the request size limit.
func parseMultipart(contentType string, body []byte) ([]formPart, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("content type: %w", err)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errNoBoundary
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts []formPart
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		fp := formPart{name: p.FormName(), data: data}
		if _, dp, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			if fn, ok := dp["filename"]; ok {
				fp.file, fp.filename = true, fn
				fp.contentType = p.Header.Get("Content-Type")
				if fp.contentType == "" {
					fp.contentType = "text/plain"
				}
			}
		}
		parts = append(parts, fp)
	}
}

// urlGet reads URL component name of u.
func urlGet(vm *goja.Runtime, u *weburl.URL, name string) string {
	switch name {
	case "href":
		return u.Href()
	case "origin":
		return u.Origin()
	case "protocol":
		return u.Protocol()
	case "username":
		return u.Username()
	case "password":
		return u.Password()
	case "host":
		return u.Host()
	case "hostname":
		return u.Hostname()
	case "port":
		return u.Port()
	case "pathname":
		return u.Pathname()
	case "search":
		return u.Search()
	case "hash":
		return u.Hash()
	}
	panic(vm.NewTypeError("unknown URL property " + name))
}
