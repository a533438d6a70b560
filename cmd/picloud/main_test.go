package main

import (
	"os"
	"testing"

	"github.com/picloud/picloud/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL that pgtest starts for the
// DATABASE_URL tests, if one was needed.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
