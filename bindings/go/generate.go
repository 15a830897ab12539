package minknow

// Regenerate the stubs under pb/ (needs protoc; see pb/generate.sh).
//go:generate ./pb/generate.sh
