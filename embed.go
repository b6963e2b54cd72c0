// Package oxygen holds the files that ship inside the binary: the reference
// policy (used where a repository has no resources.yaml) and the hook shims
// that `oxygen install` writes.
package oxygen

import "embed"

// ReferencePolicy is the repository's own resources.yaml.
//
//go:embed resources.yaml
var ReferencePolicy []byte

// Hooks holds the shell shims, one file per git hook, under "hooks/".
//
//go:embed hooks
var Hooks embed.FS
