// Package manager is PiCloud's control plane: apps, domains, scripts and
// their versions, routes, users and sessions, and the admin API (gin) under
// /api/v1/admin. It is the only package that writes to PostgreSQL and the
// only one that imports pgx.
//
// Only node may import manager's behaviour; other packages declare the small
// interfaces they need and node injects a *Manager.
package manager
