package node

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretKeyIsGeneratedOnceWithPrivateMode(t *testing.T) {
	dir := t.TempDir()
	k1, err := loadSecretKey("", dir)
	if err != nil || len(k1) != secretKeySize {
		t.Fatalf("generate: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v (%v), want 0600", st.Mode().Perm(), err)
	}
	k2, err := loadSecretKey("", dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, secretKeySize))
	k3, err := loadSecretKey(env, dir)
	if err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{7}, secretKeySize)) {
		t.Fatalf("env key: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := loadSecretKey(bad, dir); err == nil {
			t.Errorf("accepted PICLOUD_SECRET_KEY=%q", bad)
		}
	}
}
