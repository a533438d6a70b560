package manager

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/internal/pgtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(pgtest.Main(m))
}
