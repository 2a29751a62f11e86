package idp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names inside {dataDir}/idp.
const (
	keysFile   = "keys.json"
	clientFile = "client.json"
	issuerFile = "issuer"
)

// loadOrCreate returns the contents of dir/name, creating the file from generate() first when it
// does not exist. When several processes race, exactly one file wins and all of them read it.
func loadOrCreate(dir, name string, generate func() ([]byte, error)) ([]byte, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	fresh, err := generate()
	if err != nil {
		return nil, err
	}
	if err := createExclusive(dir, name, fresh); err != nil {
		return nil, err
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// createExclusive writes data to dir/name (mode 0600) unless that file exists already. The
// content is written and synced to a temporary file first and then hard-linked into place, so
// the file is never seen half-written and an existing one is never replaced. A lost race is not
// an error: the caller reads the winner's file.
func createExclusive(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, filepath.Join(dir, name))
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Join(dir, name), err)
	}
	return syncDir(dir)
}

// replaceFile atomically replaces dir/name with data (mode 0600).
func replaceFile(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", filepath.Join(dir, name), err)
	}
	return syncDir(dir)
}

// writeTemp writes data to a new, synced, 0600 temporary file beside dir/name.
func writeTemp(dir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(0o600)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", f.Name(), werr)
	}
	return f.Name(), nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
