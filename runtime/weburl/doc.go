// Package weburl implements the WHATWG URL Standard (URL parsing, serialization,
// setters, origins) and the application/x-www-form-urlencoded URLSearchParams
// model, in pure Go, so the script runtime can expose JS URL and URLSearchParams
// as thin bindings. It imports no JS engine and may be imported by runtime and
// its subpackages (and by anything else that needs browser-compatible URLs).
package weburl
