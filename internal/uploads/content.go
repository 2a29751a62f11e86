package uploads

import (
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SniffLen is how many leading bytes a content sniffer (the adapter's http.DetectContentType)
// looks at.
const SniffLen = 512

// ChooseContentType returns the content type to store: the declared one unless the bytes say it
// lies, then the sniffed one. Sniffing is coarse (it knows ~40 formats, and calls every text
// "text/plain"), so a declared type is kept whenever the sniffer cannot contradict it.
func ChooseContentType(declared, sniffed string) string {
	d := BaseType(declared)
	s := BaseType(sniffed)
	switch {
	case d == "":
		return sniffed
	case s == "application/octet-stream", s == d:
		return Normalized(declared)
	case s == "text/plain" && isTextual(d):
		return Normalized(declared)
	case s == "application/zip" && isZipBased(d):
		return Normalized(declared)
	case s == "text/xml" && (strings.HasSuffix(d, "+xml") || d == "application/xml"):
		return Normalized(declared)
	default:
		return sniffed
	}
}

// BaseType returns the media type of ct without parameters, or "" when ct is not one.
func BaseType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return ""
	}
	return mt
}

// Normalized re-formats a valid media type, so what is stored is always well-formed.
func Normalized(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "application/octet-stream"
	}
	if f := mime.FormatMediaType(mt, params); f != "" {
		return f
	}
	return mt
}

func isTextual(mt string) bool {
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") || strings.HasSuffix(mt, "+yaml") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/x-ndjson", "application/yaml",
		"application/x-yaml", "application/javascript", "application/sql", "application/graphql":
		return true
	}
	return false
}

func isZipBased(mt string) bool {
	return strings.HasSuffix(mt, "+zip") ||
		strings.HasPrefix(mt, "application/vnd.openxmlformats-officedocument.") ||
		strings.HasPrefix(mt, "application/vnd.oasis.opendocument.") ||
		mt == "application/java-archive" || mt == "application/vnd.android.package-archive"
}

// MaxFilenameBytes bounds a stored file name (most file systems' limit).
const MaxFilenameBytes = 255

// SanitizeFilename keeps the last path element of a client's file name, without control or
// invalid characters, at most 255 bytes. File names are metadata only: object keys never come
// from them.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > MaxFilenameBytes {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		return "upload"
	}
	return name
}

// ContentDisposition is the attachment header for a stored file name (RFC 6266, with RFC 2231
// encoding for names that are not plain ASCII).
func ContentDisposition(filename string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment"
}
