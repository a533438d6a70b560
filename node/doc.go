// Package node is the agent: it reads the configuration, supervises the
// managed PostgreSQL, wires manager, runtime and edge together, and runs
// them until its context ends. It is the only wiring root; cmd/picloud
// calls it and nothing else imports it.
package node
