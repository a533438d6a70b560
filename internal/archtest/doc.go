// Package archtest holds no code: its tests enforce the architecture of
// DESIGN.md (which package may import what, and that every package is
// documented). Nothing imports it.
package archtest
