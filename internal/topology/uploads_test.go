package topology

import (
	"strings"
	"testing"
)

// TestUploadsSettings (issue 11 item 3): the presign cap is a size with a unit, 5GiB when
// unset, refused above S3's single-PUT limit; errors name the key.
func TestUploadsSettings(t *testing.T) {
	for _, c := range []struct {
		name, extra string
		want        int64
		err         string
	}{
		{"unset", "", 5 << 30, ""},
		{"GiB", "    uploads: {maxPresignedSize: 5GiB}\n", 5 << 30, ""},
		{"MiB", "    uploads: {maxPresignedSize: 100MiB}\n", 100 << 20, ""},
		{"bytes", "    uploads: {maxPresignedSize: 1B}\n", 1, ""},
		{"above S3's limit", "    uploads: {maxPresignedSize: 6GiB}\n", 0, "services[0].uploads.maxPresignedSize: must be between 1B and 5GiB"},
		{"no unit", "    uploads: {maxPresignedSize: 1000}\n", 0, "services[0].uploads.maxPresignedSize: \"1000\" has no unit"},
		{"decimal unit", "    uploads: {maxPresignedSize: 5GB}\n", 0, "is not a size"},
		{"negative", "    uploads: {maxPresignedSize: -1MiB}\n", 0, "is not a size"},
		{"overflow", "    uploads: {maxPresignedSize: 99999999999999GiB}\n", 0, "is not a size"},
		{"not a scalar", "    uploads: {maxPresignedSize: [1]}\n", 0, "must be a size"},
		{"unknown key", "    uploads: {maxSize: 1GiB}\n", 0, "services[0].uploads.maxSize: unknown key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			top, err := Parse([]byte(svc(c.extra)))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := top.Services[0].Uploads.PresignCap(); got != c.want {
				t.Errorf("PresignCap = %d, want %d", got, c.want)
			}
		})
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"5GiB", "0B", "-1KiB", "12 MiB", "1e3B", "GiB", "9223372036854775807B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err == nil && b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, a negative size", s, b)
		}
	})
}

// TestRepositoryPresignCap: decagon.yaml sets the uploads service's cap, the value infra reads.
func TestRepositoryPresignCap(t *testing.T) {
	topo, err := Load(repoFile(t, "decagon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := topo.Service("uploads")
	if !ok || s.Uploads.MaxPresignedSize != 5<<30 {
		t.Errorf("uploads.maxPresignedSize = %d (service found: %v), want 5GiB set explicitly", s.Uploads.MaxPresignedSize, ok)
	}
}
