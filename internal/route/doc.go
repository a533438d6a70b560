// Package route owns PiCloud's routing semantics: parsing and validating
// route patterns (method, host, path) and app domain claims, refusing
// conflicts, and matching requests with the precedence rules of the
// original PiCloud (see docs/routing.md).
//
// It is pure: no I/O, no logging, no global state. The edge imports it to
// dispatch requests and the manager imports it for the admin API's "check"
// and "match" helpers and to refuse conflicts at creation, so both agree on
// every decision. Tables are immutable once built and safe for concurrent
// use; build a new one when routes or claims change.
package route
