package manager

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/picloud/picloud/internal/pgtest"
)

func TestSecretsAreSealedAndScopedToTheirApp(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, SecretKeySize)
	_, _ = rand.Read(key)
	dsn := pgtest.DSN(t)
	m, err := Open(ctx, Config{DatabaseURL: dsn, Compiler: fakeCompiler{}, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, _ := m.CreateApp(ctx, "a", "")
	b, _ := m.CreateApp(ctx, "b", "")
	value := []byte("sk_live_very-secret-value")
	if _, err := m.PutSecret(ctx, "a", "STRIPE_KEY", value); err != nil {
		t.Fatal(err)
	}

	var raw []byte
	if err := m.pool.QueryRow(ctx, `SELECT ciphertext FROM secrets`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var dump string
	if err := m.pool.QueryRow(ctx, `SELECT string_agg(s::text, ',') FROM secrets s`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, value) || bytes.Contains([]byte(dump), []byte("very-secret")) {
		t.Fatal("the secret is stored in clear text")
	}

	got, ok, err := m.SecretValue(ctx, a.ID, "STRIPE_KEY")
	if err != nil || !ok || !bytes.Equal(got, value) {
		t.Fatalf("secret = %q %v %v", got, ok, err)
	}
	if _, ok, _ := m.SecretValue(ctx, b.ID, "STRIPE_KEY"); ok {
		t.Fatal("app b reads app a's secret")
	}
	// A ciphertext moved to another app's row does not decrypt.
	if _, err := m.pool.Exec(ctx, `INSERT INTO secrets (app_id, name, nonce, ciphertext) SELECT $1, name, nonce, ciphertext FROM secrets WHERE app_id = $2`, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.SecretValue(ctx, b.ID, "STRIPE_KEY"); err == nil {
		t.Fatal("a copied ciphertext decrypted under another app")
	}

	infos, err := m.Secrets(ctx, "a")
	if err != nil || len(infos) != 1 || infos[0].Name != "STRIPE_KEY" {
		t.Fatalf("list = %+v, %v", infos, err)
	}
	if _, err := m.PutSecret(ctx, "a", "bad name", value); err == nil {
		t.Fatal("invalid name accepted")
	}
	if _, err := m.PutSecret(ctx, "a", "BIG", make([]byte, MaxSecretBytes+1)); err == nil {
		t.Fatal("oversized secret accepted")
	}
	if err := m.DeleteSecret(ctx, "a", "STRIPE_KEY"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteSecret(ctx, "a", "STRIPE_KEY"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// Another key cannot read what the first sealed.
	if _, err := m.PutSecret(ctx, "a", "K", value); err != nil {
		t.Fatal(err)
	}
	other := make([]byte, SecretKeySize)
	_, _ = rand.Read(other)
	m2, err := Open(ctx, Config{DatabaseURL: dsn, Compiler: fakeCompiler{}, SecretKey: other})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if _, _, err := m2.SecretValue(ctx, a.ID, "K"); err == nil {
		t.Fatal("a different key decrypted the secret")
	}
	noKey := open(t)
	if _, err := noKey.PutSecret(ctx, "a", "K", value); !errors.Is(err, ErrNoSecretKey) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("put without a key: %v", err)
	}
}
