package server

import _ "embed"

// OpenAPI describes the server's HTTP API; it is served at
// /v1/openapi.json and kept in docs/openapi.json (a test checks they are
// the same file).
//
//go:embed openapi.json
var OpenAPI []byte
