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
	if err := os.Remove(leaf); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(leaf, 0o700); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(old, fi) {
		t.Skip("the file system gave the new directory the old one's inode")
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
