// Package cli holds decagon's command-line conventions, over the standard flag package: flags
// before or after a command's arguments ("--" ends them), every flag also read from a DECAGON_*
// environment variable, a warning for the variables a command does not read, usage that prints
// defaults as a person writes them (10MiB, 1h), --help that exits 0, and the value types the
// commands share (sizes, lists, per-service targets).
//
// It imports only the standard library. cmd/decagon makes each command's FlagSet; the packages
// whose Config a command fills register their own flags on it (a Flags method beside the Config).
package cli
