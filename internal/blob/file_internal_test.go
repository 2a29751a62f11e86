package blob

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDurableDirs: syncAbove remembers the directories it made durable, up to the root and no
// further, and a directory removed and made again under the same name is not taken for the one
// it remembers.
func TestDurableDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	leaf := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(leaf, 0o700); err != nil {
		t.Fatal(err)
	}
	var d durableDirs
	if err := d.syncAbove(leaf, root); err != nil {
		t.Fatal(err)
	}
	if len(d.seen) != 2 || d.seen[leaf] == nil || d.seen[filepath.Join(root, "a")] == nil {
		t.Fatalf("remembered %v, want a and a/b", d.seen)
	}
	old := d.seen[leaf]
	// The old directory is moved aside, not removed, until the new one exists: a removed
	// directory's inode could be handed straight to the new one, which would then be the same
	// file to os.SameFile.
	if err := os.Rename(leaf, leaf+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(leaf, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(leaf + ".old"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(old, fi) {
		t.Fatalf("the new directory has the old one's inode although both existed at once")
	}
	if err := d.syncAbove(leaf, root); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(d.seen[leaf], fi) {
		t.Errorf("a/b made again is still remembered as the old directory")
	}
	if err := d.syncAbove(filepath.Join(root, "missing"), root); err == nil {
		t.Errorf("syncAbove of a missing directory succeeded")
	}
}
