package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultURL is where `picloud dev` listens.
const DefaultURL = "http://localhost:8080"

// credentials is what `picloud login` stores.
type credentials struct {
	URL      string `json:"url"`
	Token    string `json:"token"`
	Username string `json:"username,omitempty"`
}

// credentialsPath is <config dir>/picloud/credentials.json.
func (e *Env) credentialsPath() (string, error) {
	dir, err := e.ConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory: %w (set HOME or XDG_CONFIG_HOME)", err)
	}
	return filepath.Join(dir, "picloud", "credentials.json"), nil
}

func (e *Env) loadCredentials() (credentials, error) {
	p, err := e.credentialsPath()
	if err != nil {
		return credentials{}, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return credentials{}, nil
	}
	if err != nil {
		return credentials{}, fmt.Errorf("reading %s: %w", p, err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return credentials{}, fmt.Errorf("reading %s: %w (delete it and run `picloud login` again)", p, err)
	}
	return c, nil
}

// saveCredentials writes c readable by the user only.
func (e *Env) saveCredentials(c credentials) (string, error) {
	p, err := e.credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	// Write a temp file and rename, so a crash never leaves half a file,
	// and create it 0600 so the token is never readable by others.
	tmp, err := os.CreateTemp(filepath.Dir(p), ".credentials-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	return p, nil
}

func (e *Env) removeCredentials() error {
	p, err := e.credentialsPath()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p, err)
	}
	return nil
}

// target resolves the URL and token to use: PICLOUD_URL and PICLOUD_TOKEN
// override the stored login, --url overrides both.
func (e *Env) target(flagURL string) (credentials, error) {
	c, err := e.loadCredentials()
	if err != nil {
		return c, err
	}
	if v := e.Getenv("PICLOUD_URL"); v != "" {
		c.URL = v
	}
	if v := e.Getenv("PICLOUD_TOKEN"); v != "" {
		c.Token = v
	}
	if flagURL != "" {
		c.URL = flagURL
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	return c, nil
}
