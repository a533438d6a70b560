package manager

import _ "embed"

// openAPIDocument describes the whole admin API (OpenAPI 3); a test keeps
// it equal to the router's routes.
//
//go:embed openapi.json
var openAPIDocument []byte
