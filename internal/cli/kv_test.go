package cli

import (
	"context"
	"strings"
	"testing"
)

func TestKVValuePath(t *testing.T) {
	cases := []struct {
		name, app, ns, key, want string
	}{
		{"plain", "default", "store", "greeting", "/apps/default/kv/store/values/greeting"},
		{"slashes kept", "default", "store", "a/b/c", "/apps/default/kv/store/values/a/b/c"},
		{"reserved escaped", "shop", "my ns", "a?b#c d", "/apps/shop/kv/my%20ns/values/a%3Fb%23c%20d"},
		{"collection key", "default", "store", "users:ann", "/apps/default/kv/store/values/users:ann"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := kvValuePath(tc.app, tc.ns, tc.key); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKVAndSecretUsage(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"kv without subcommand", []string{"kv"}, "", 2, "usage: picloud kv"},
		{"kv put without value", []string{"kv", "put", "ns", "k"}, "", 2, "missing value"},
		{"kv put value and file", []string{"kv", "put", "ns", "k", "v", "--file", "x"}, "", 2, "not both"},
		{"kv put bad metadata", []string{"kv", "put", "ns", "k", "v", "--metadata", "{"}, "", 2, "--metadata must be JSON"},
		{"kv get one arg", []string{"kv", "get", "ns"}, "", 2, "missing argument"},
		{"secret value on argv refused", []string{"secret", "put", "NAME", "value"}, "", 2, "unexpected argument"},
		{"secret put empty stdin", []string{"secret", "put", "NAME"}, "\n", 2, "empty value"},
		{"secret put logged out", []string{"secret", "put", "NAME"}, "v\n", 3, "picloud login"},
		{"kv ls logged out", []string{"kv", "ls"}, "", 3, "picloud login"},
		{"deploy with bad bindings", []string{"deploy", "x.js", "--bindings", "{"}, "", 2, "--bindings must be JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _, errb := testEnv(t, map[string]string{})
			e.Stdin = strings.NewReader(tc.stdin)
			if code := Run(context.Background(), e, tc.args); code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, errb.String(), tc.code, tc.want)
			}
		})
	}
}

func TestReadSecretFromStdin(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"echo newline dropped", "s3cret\n", "s3cret"},
		{"crlf dropped", "s3cret\r\n", "s3cret"},
		{"only one newline dropped", "a\nb\n\n", "a\nb\n"},
		{"no newline", "s3cret", "s3cret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(t, map[string]string{})
			e.Stdin = strings.NewReader(tc.in)
			got, err := (&runner{env: e}).readSecret("X")
			if err != nil || got != tc.want {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}
