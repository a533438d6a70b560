package edge

import (
	"os"
	"testing"

	"github.com/picloud/picloud/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
