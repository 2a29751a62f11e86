package faulttest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/decagon/decagon/internal/blob/blobtest"
)

func itoa(n int) string { return strconv.Itoa(n) }

// TestDirectoryDiskFull (issue 11, fault suite): with the directory store's disk full (a 1 MiB
// tmpfs over it, filled), a direct upload and a signed PUT are 507 problems, no partial object
// or temporary file stays, and no upload row points at missing bytes. It skips where a tmpfs
// cannot be mounted.
func TestDirectoryDiskFull(t *testing.T) {
	target := blobtest.NewFile(t)
	base, h := uploadsService(t, target)
	id, url, headers := presignFor(t, base, 300<<10)

	kind, end := target.Outage(t)
	if kind != blobtest.OutageFull {
		t.Fatalf("outage %q", kind)
	}
	full := target.Residue(t) // the filler, nothing else
	wantProblem(t, "direct upload on a full disk",
		do(t, http.MethodPost, base+"/upload?filename=a.bin", "application/octet-stream", make([]byte, 300<<10), nil),
		http.StatusInsufficientStorage)
	wantProblem(t, "signed PUT on a full disk",
		do(t, http.MethodPut, url, headers["Content-Type"], make([]byte, 300<<10), headers),
		http.StatusInsufficientStorage)
	if got := target.Residue(t); !slices.Equal(got, full) {
		t.Errorf("the full disk holds %v, want only %v: a partial object or temporary file stayed", got, full)
	}
	var list struct {
		Items []struct {
			ID     string `json:"upload_id"`
			Status string `json:"status"`
		}
	}
	a := do(t, http.MethodGet, base+"/upload", "", nil, nil)
	if err := json.Unmarshal(a.body, &list); err != nil || len(list.Items) != 1 || list.Items[0].ID != id || list.Items[0].Status != "pending" {
		t.Errorf("uploads on a full disk: %s; want only the presigned one, pending", a.body)
	}
	end()

	if err := reapAll(h); err != nil {
		t.Fatal(err)
	}
	if got := target.Residue(t); len(got) != 0 {
		t.Errorf("after the outage and the reaper: %v, want nothing", got)
	}
	if a := do(t, http.MethodPost, base+"/upload?filename=a.txt", "text/plain", []byte("room again"), nil); a.status != http.StatusCreated {
		t.Errorf("upload after the disk has room: %d %s", a.status, a.body)
	}
}
