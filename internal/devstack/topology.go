package devstack

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/topology"
)

// DefaultTopologyFile is --config's default: used when present, else the copy built into the
// binary.
const DefaultTopologyFile = "decagon.yaml"

// LoadTopology reads the topology file. Only the default name may be missing: then the
// binary's own copy serves, so that `decagon dev` works from any directory.
func LoadTopology(path string, logger *slog.Logger) (*topology.Topology, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && path == DefaultTopologyFile {
		logger.Info("no decagon.yaml here: using the built-in topology")
		t, err := topology.Parse(decagon.Topology)
		if err != nil {
			return nil, fmt.Errorf("built-in decagon.yaml: %w", err)
		}
		return t, nil
	}
	return topology.Load(path)
}
