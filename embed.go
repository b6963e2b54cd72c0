// Package oxygen holds the files that ship inside the binary: the reference
// policy (used where a repository has no resources.yaml) and the hook shims
// that `oxygen install` writes.
package oxygen

import "embed"

// ReferencePolicy is the protocol's reference policy for the seed's layout,
// examples/reference/resources.yaml. (oxygen's own resources.yaml, at the
// root, is a policy for oxygen's contributors.)
//
//go:embed examples/reference/resources.yaml
var ReferencePolicy []byte

// Hooks holds the shell shims, one file per git hook, under "hooks/".
//
//go:embed hooks
var Hooks embed.FS
