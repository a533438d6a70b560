package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/picloud/picloud/manager"
)

// setupTokenFile is the name, in the data directory, of the file holding
// this node's first-run setup token.
const setupTokenFile = "setup-token"

// ensureSetupToken gives the node a setup token while no owner or admin
// exists: the one in <data>/setup-token when still valid, else a new one
// written there (0600). It is logged (journald keeps it) and printed, so the
// operator can open the dashboard's first-run screen. Once setup is done
// the file is removed and "" returned.
func ensureSetupToken(ctx context.Context, mgr *manager.Manager, dataDir string, log *slog.Logger, out io.Writer, base string) (string, error) {
	path := filepath.Join(dataDir, setupTokenFile)
	var kept string
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		kept = strings.TrimSpace(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("reading setup token: %w", err)
	}
	tok, err := mgr.EnsureSetupToken(ctx, kept)
	if err != nil {
		return "", err
	}
	if tok == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("removing used setup token: %w", err)
		}
		return "", nil
	}
	if tok != kept {
		if err := writePrivate(path, tok+"\n"); err != nil {
			return "", fmt.Errorf("writing setup token: %w", err)
		}
	}
	log.Warn("no admin exists yet: open the dashboard and enter the setup token to create the owner",
		"url", base+"/admin/", "setup_token", tok, "file", path)
	fmt.Fprintf(out, "No admin exists yet. Open %s/admin/ and enter the setup token %s (also in %s)\n", base, tok, path)
	return tok, nil
}

// writePrivate replaces path with content, readable by its owner only.
func writePrivate(path, content string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// An older tmp file may have had other permissions.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
