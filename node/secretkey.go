package node

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const secretKeySize = 32

// loadSecretKey returns the key that seals app secrets: PICLOUD_SECRET_KEY
// (base64 of 32 bytes) when given, else <data>/secret.key, generated 0600
// on first start. The key never enters the database.
func loadSecretKey(fromEnv, dataDir string) ([]byte, error) {
	if fromEnv != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(fromEnv))
		if err != nil || len(key) != secretKeySize {
			return nil, fmt.Errorf("PICLOUD_SECRET_KEY must be the base64 of %d bytes (openssl rand -base64 32)", secretKeySize)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != secretKeySize {
			return nil, fmt.Errorf("%s is not the base64 of %d bytes", path, secretKeySize)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading secret key: %w", err)
	}
	key := make([]byte, secretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating secret key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing secret key: %w", err)
	}
	return key, nil
}
