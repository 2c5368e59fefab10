package service

import _ "embed"

// OpenAPI is the API's OpenAPI 3.0 document, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
