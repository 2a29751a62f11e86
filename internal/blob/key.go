package blob

import (
	"fmt"
	"strings"
)

// MaxKeyLen is the longest key a Bucket accepts, in bytes. S3 allows 1024; ours are far shorter
// (uploads/{owner-hash}/{upload_id}) and the limit keeps file paths well under PATH_MAX.
const MaxKeyLen = 512

// ValidKey reports why key is not an acceptable object key, or nil when it is.
//
// Keys are built by the caller, never taken from a client verbatim; this check is defense in
// depth, so it is strict: one or more segments separated by single slashes, each segment of
// ASCII letters, digits, '.', '_', '-' and '=', not starting with '.' (which also rules out "." and
// ".."), and no segment ending in ".tmp" or ".attrs" (the file backend's temporary and sidecar
// files), no "__" (gocloud's escape marker: with it, a key would not be its own file name or S3
// key). No leading or trailing slash, at most MaxKeyLen bytes.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validSegment(seg); err != nil {
			return fmt.Errorf("%w: %q: %s", ErrInvalidKey, key, err)
		}
	}
	return nil
}

type keyError string

func (e keyError) Error() string { return string(e) }

func validSegment(seg string) error {
	switch {
	case seg == "":
		return keyError("empty segment (leading, trailing or double slash)")
	case seg[0] == '.':
		return keyError("segment starts with '.'")
	case strings.HasSuffix(seg, ".tmp"), strings.HasSuffix(seg, ".attrs"):
		return keyError("segment ends in a reserved suffix")
	case strings.Contains(seg, "__"):
		return keyError(`"__" is gocloud's escape marker`)
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '='
		if !ok {
			return keyError(fmt.Sprintf("byte %#x not allowed", c))
		}
	}
	return nil
}
