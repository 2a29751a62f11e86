package topology

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxPresignedSizeLimit is the largest presign cap a service may set: S3's single-PUT limit,
// 5 GiB, which a presigned PUT cannot exceed.
const MaxPresignedSizeLimit = 5 << 30

// Uploads holds the settings of the service that serves /upload (issue 11 item 3); the other
// services ignore it. In decagon.yaml:
//
//	uploads:
//	  maxPresignedSize: 5GiB    (5GiB) largest file a presign accepts, 1B..5GiB
type Uploads struct {
	// MaxPresignedSize bounds the size a POST /upload/presign may announce: the uploads
	// service's --max-presigned-size, and what infra passes to the task. 0 (unset) means
	// MaxPresignedSizeLimit; use PresignCap.
	MaxPresignedSize ByteSize `yaml:"maxPresignedSize"`
}

// PresignCap returns the presign cap in bytes, the default when unset.
func (u Uploads) PresignCap() int64 {
	if u.MaxPresignedSize == 0 {
		return MaxPresignedSizeLimit
	}
	return int64(u.MaxPresignedSize)
}

// ByteSize is a size in bytes, written with a binary unit: "5GiB", "10MiB", "512KiB", "100B".
type ByteSize int64

var byteSizeType = reflect.TypeFor[ByteSize]()

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// ParseByteSize reads a size written as ByteSize describes.
func ParseByteSize(s string) (ByteSize, error) {
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 0 || n > (1<<62)/u.mult {
			return 0, fmt.Errorf("%q is not a size such as 5GiB, 10MiB, 512KiB or 100B", s)
		}
		return ByteSize(n * u.mult), nil
	}
	return 0, fmt.Errorf("%q has no unit: write 5GiB, 10MiB, 512KiB or 100B", s)
}

func (d *decoder) byteSize(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "must be a size such as 5GiB")
		return
	}
	b, err := ParseByteSize(n.Value)
	if err != nil {
		d.fail(path, n, "%v", err)
		return
	}
	v.SetInt(int64(b))
}

func (v *validator) uploads(p string, u Uploads) {
	if u.MaxPresignedSize < 0 || u.MaxPresignedSize > MaxPresignedSizeLimit {
		v.errf(p+".maxPresignedSize", "must be between 1B and 5GiB (S3's single-PUT limit), got %d bytes", int64(u.MaxPresignedSize))
	}
}
