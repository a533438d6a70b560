// Package runtime runs user scripts: it transforms JavaScript and TypeScript
// modules with esbuild, compiles them once to goja programs cached by content
// hash, and executes their Workers-style fetch handlers on goja runtimes
// with a per-execution event loop.
//
// runtime has no Postgres dependency and imports no other PiCloud package
// with behaviour. Its plain data types (Script, ExecRequest, ExecResult) may
// be imported by edge; node wires the Engine in as edge's Executor.
package runtime
