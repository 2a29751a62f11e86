// Package decagon embeds decagon.yaml, the topology, so that the binary carries the default
// the repository ships: `decagon dev` and `decagon edge` read the file given by --config when it
// exists and fall back to this copy otherwise.
package decagon

import _ "embed"

// Topology is the repository's decagon.yaml.
//
//go:embed decagon.yaml
var Topology []byte
