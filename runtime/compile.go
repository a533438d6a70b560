package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"
)

// Language names accepted by Transform.
const (
	JavaScript = "javascript"
	TypeScript = "typescript"
)

// moduleWrapper turns esbuild's CommonJS output into one function expression
// so a single compiled program can be instantiated on any runtime. It adds
// no line, so reported lines stay those of the transformed code.
const (
	modulePrefix = "(function (module, exports) {"
	moduleSuffix = "\n})"
)

// Transform turns a Workers-style ES module (JavaScript or TypeScript) into
// the code goja runs. Errors in the source are *SyntaxError.
func Transform(ctx context.Context, source, language string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	loader := api.LoaderJS
	switch language {
	case JavaScript, "":
	case TypeScript:
		loader = api.LoaderTS
	default:
		return "", fmt.Errorf("unknown language %q", language)
	}
	res := api.Transform(source, api.TransformOptions{
		Loader:     loader,
		Format:     api.FormatCommonJS,
		Target:     api.ES2017,
		Sourcefile: "script.js",
		LogLevel:   api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		se := &SyntaxError{Message: e.Text}
		if e.Location != nil {
			se.Line = e.Location.Line
			se.Column = e.Location.Column + 1
		}
		return "", se
	}
	code := string(res.Code)
	// Validate that goja accepts what esbuild produced, so that a deploy
	// never stores code that cannot run.
	if _, err := goja.Compile("script.js", modulePrefix+code+moduleSuffix, true); err != nil {
		return "", compileError(err)
	}
	return code, nil
}

func compileError(err error) error {
	if ce, ok := err.(*goja.CompilerSyntaxError); ok {
		se := &SyntaxError{Message: ce.Message}
		if ce.File != nil {
			p := ce.File.Position(ce.Offset)
			se.Line, se.Column = p.Line, p.Column
		}
		return se
	}
	return fmt.Errorf("compiling script: %w", err)
}

// HashCode returns the content hash programs are cached under.
func HashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// programCache keeps compiled programs by content hash. Programs are small
// (about 13 KB) and immutable, so they are kept for the process lifetime.
type programCache struct {
	mu       sync.Mutex
	programs map[string]*goja.Program
}

func newProgramCache() *programCache {
	return &programCache{programs: make(map[string]*goja.Program)}
}

func (c *programCache) get(s *Script) (*goja.Program, error) {
	key := s.Hash
	if key == "" {
		key = HashCode(s.Code)
	}
	c.mu.Lock()
	p, ok := c.programs[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := goja.Compile(scriptFileName(s), modulePrefix+s.Code+moduleSuffix, true)
	if err != nil {
		return nil, compileError(err)
	}
	c.mu.Lock()
	c.programs[key] = p
	c.mu.Unlock()
	return p, nil
}

func scriptFileName(s *Script) string {
	if s.Name == "" {
		return "script.js"
	}
	return strings.ReplaceAll(s.Name, "/", "_") + ".js"
}
