package manager

import (
	"context"
	"fmt"
	"slices"
)

// Instance roles (users.role).
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// App roles (app_members.role).
const (
	AppRoleAdmin  = "app_admin"
	AppRoleEditor = "editor"
	AppRoleViewer = "viewer"
)

// Capability is one thing a principal may do. Every admin handler asks the
// single gate, can, for exactly one capability before it acts.
type Capability string

// App-level capabilities are checked against one app; instance-level ones
// against the instance.
const (
	CapAppRead     Capability = "app:read"     // see the app, its domains and members
	CapAppAdmin    Capability = "app:admin"    // rename or delete the app, claim domains, manage members
	CapScriptRead  Capability = "script:read"  // read scripts, versions, sources and routes
	CapScriptWrite Capability = "script:write" // deploy, roll back, delete scripts; write routes
	CapLogsRead    Capability = "logs:read"    // read execution logs

	CapAppCreate  Capability = "instance:apps"   // create apps
	CapUsersAdmin Capability = "instance:users"  // list, create, change and delete users
	CapOwners     Capability = "instance:owners" // grant, change or remove the owner role
	CapAccount    Capability = "account"         // own password and own API keys
)

// instanceCaps are the capabilities that act on the instance, never on one
// app; an app-bound key can never hold them.
var instanceCaps = map[Capability]bool{CapAppCreate: true, CapUsersAdmin: true, CapOwners: true, CapAccount: true}

// appRoleCaps says what each app role grants on its app.
var appRoleCaps = map[string][]Capability{
	AppRoleAdmin:  {CapAppRead, CapAppAdmin, CapScriptRead, CapScriptWrite, CapLogsRead},
	AppRoleEditor: {CapAppRead, CapScriptRead, CapScriptWrite, CapLogsRead},
	AppRoleViewer: {CapAppRead, CapScriptRead, CapLogsRead},
}

// API key scopes.
const (
	ScopeAppRead     = "app:read"
	ScopeScriptRead  = "script:read"
	ScopeScriptWrite = "script:write"
	ScopeLogsRead    = "logs:read"
	ScopeAppAdmin    = "app:admin"
	ScopeInstance    = "instance:*"
)

// Scopes lists every scope a key may hold.
var Scopes = []string{ScopeAppRead, ScopeScriptRead, ScopeScriptWrite, ScopeLogsRead, ScopeAppAdmin, ScopeInstance}

// scopeCaps says which capabilities each scope lets a key use (a key can
// never do more than its user, whatever its scopes).
var scopeCaps = map[string][]Capability{
	ScopeAppRead:     {CapAppRead},
	ScopeScriptRead:  {CapAppRead, CapScriptRead, CapLogsRead},
	ScopeScriptWrite: {CapAppRead, CapScriptRead, CapScriptWrite, CapLogsRead},
	ScopeLogsRead:    {CapAppRead, CapLogsRead},
	ScopeAppAdmin:    {CapAppRead, CapAppAdmin, CapScriptRead, CapScriptWrite, CapLogsRead},
}

// Principal is who is calling: a user, through a session or an API key.
type Principal struct {
	User User
	// Apps maps app id to the user's role on that app.
	Apps map[string]string
	// Key is set when the call is authenticated by an API key.
	Key *APIKey
	// Cookie is true when the session came from the cookie, not a header.
	Cookie bool
	token  string
}

// can is the one capability gate. appID names the app an app-level
// capability is asked for ("" for instance-level ones).
func can(p Principal, c Capability, appID string) bool {
	if p.User.ID == "" || !p.User.Active {
		return false
	}
	if p.Key != nil {
		if !keyAllows(*p.Key, c, appID) {
			return false
		}
	}
	if instanceCaps[c] {
		switch c {
		case CapAccount:
			return true
		case CapOwners:
			return p.User.Role == RoleOwner
		}
		return p.User.Role == RoleOwner || p.User.Role == RoleAdmin
	}
	if appID == "" {
		return false
	}
	if p.User.Role == RoleOwner || p.User.Role == RoleAdmin {
		return true
	}
	return slices.Contains(appRoleCaps[p.Apps[appID]], c)
}

func keyAllows(k APIKey, c Capability, appID string) bool {
	if k.AppID != "" && (instanceCaps[c] || appID != k.AppID) {
		return false
	}
	if slices.Contains(k.Scopes, ScopeInstance) {
		return true
	}
	for _, s := range k.Scopes {
		if slices.Contains(scopeCaps[s], c) {
			return true
		}
	}
	return false
}

// memberships loads a user's app roles.
func (m *Manager) memberships(ctx context.Context, userID string) (map[string]string, error) {
	rows, err := m.pool.Query(ctx, `SELECT app_id, role FROM app_members WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("loading app roles: %w", err)
	}
	defer rows.Close()
	apps := map[string]string{}
	for rows.Next() {
		var app, role string
		if err := rows.Scan(&app, &role); err != nil {
			return nil, fmt.Errorf("loading app roles: %w", err)
		}
		apps[app] = role
	}
	return apps, rows.Err()
}
