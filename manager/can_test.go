package manager

import "testing"

func TestCanGate(t *testing.T) {
	member := User{ID: "u", Role: RoleMember, Active: true}
	owner := User{ID: "o", Role: RoleOwner, Active: true}
	admin := User{ID: "a", Role: RoleAdmin, Active: true}
	apps := map[string]string{"A": AppRoleEditor}
	for _, tc := range []struct {
		name string
		p    Principal
		cap  Capability
		app  string
		want bool
	}{
		{"editor writes scripts of its app", Principal{User: member, Apps: apps}, CapScriptWrite, "A", true},
		{"editor cannot administer its app", Principal{User: member, Apps: apps}, CapAppAdmin, "A", false},
		{"editor sees nothing of another app", Principal{User: member, Apps: apps}, CapAppRead, "B", false},
		{"member has its account", Principal{User: member}, CapAccount, "", true},
		{"member cannot create apps", Principal{User: member, Apps: apps}, CapAppCreate, "", false},
		{"app capability needs an app", Principal{User: owner}, CapScriptRead, "", false},
		{"inactive owner can do nothing", Principal{User: User{ID: "x", Role: RoleOwner}}, CapScriptRead, "A", false},
		{"admin cannot touch owners", Principal{User: admin}, CapOwners, "", false},
		{"owner can", Principal{User: owner}, CapOwners, "", true},
		{"key scope limits the owner", Principal{User: owner, Key: &APIKey{Scopes: []string{ScopeScriptRead}}}, CapScriptWrite, "A", false},
		{"key scope grants within the user", Principal{User: owner, Key: &APIKey{Scopes: []string{ScopeScriptRead}}}, CapLogsRead, "A", true},
		{"key never exceeds its user", Principal{User: member, Apps: apps, Key: &APIKey{Scopes: []string{ScopeInstance}}}, CapAppAdmin, "A", false},
		{"bound key stays in its app", Principal{User: owner, Key: &APIKey{Scopes: []string{ScopeAppAdmin}, AppID: "A"}}, CapAppRead, "B", false},
		{"bound key has no instance capability", Principal{User: owner, Key: &APIKey{Scopes: []string{ScopeInstance}, AppID: "A"}}, CapUsersAdmin, "", false},
		{"key without instance:* has no account", Principal{User: owner, Key: &APIKey{Scopes: []string{ScopeAppAdmin}}}, CapAccount, "", false},
		{"instance key has the account", Principal{User: member, Key: &APIKey{Scopes: []string{ScopeInstance}}}, CapAccount, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := can(tc.p, tc.cap, tc.app); got != tc.want {
				t.Fatalf("can = %v, want %v", got, tc.want)
			}
		})
	}
}
