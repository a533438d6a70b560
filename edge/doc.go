// Package edge is PiCloud's ingress: Caddy v2 embedded as a library, with
// the dispatcher as a Caddy HTTP handler module. It serves /healthz,
// /version, the admin API (mounted from an injected http.Handler),
// /api/v1/execute/{id} and user routes (Host → app → route → script), and
// hands executions to an injected Executor.
//
// edge is the only package that imports Caddy. It imports runtime and
// internal/route for plain data only; node wires its dependencies.
package edge
