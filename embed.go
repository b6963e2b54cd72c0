// Package oxygen holds the file that ships inside the binary: the reference
// policy (written by oxygen init --reference, and used by commands in a
// repository that has no resources.yaml).
package oxygen

import _ "embed" // the reference policy

// ReferencePolicy is the protocol's reference policy for the seed's layout,
// examples/reference/resources.yaml. (oxygen's own resources.yaml, at the
// root, is a policy for oxygen's contributors.)
//
//go:embed examples/reference/resources.yaml
var ReferencePolicy []byte
