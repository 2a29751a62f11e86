package records

import (
	"bytes"
	"encoding/json"
	"time"
)

// AppendJSON appends r as json.Marshal encodes it, byte for byte. A GET or POST answers one
// record: encoding/json's reflection, time.Time's MarshalJSON (an allocation and a validating
// re-compaction each) and its HTML-escaping string scan were a fifth of the service's own work
// per GET. The fast path writes a record whose strings need no escaping (IDs, subjects, ASCII
// names) and whose data needs no HTML escaping directly; anything else (a name with "é", a data
// value with "<", a time json.Marshal refuses) goes through json.Marshal, so the bytes never
// differ (TestRecordAppendJSON and FuzzRecordAppendJSON hold the two to each other).
func (r Record) AppendJSON(dst []byte) ([]byte, error) {
	if !plain(r.ID) || !plain(r.Name) || !plain(r.Owner) || !utcTime(r.CreatedAt) || !utcTime(r.UpdatedAt) {
		return r.marshal(dst)
	}
	start := len(dst)
	dst = append(dst, `{"test_id":"`...)
	dst = append(dst, r.ID...)
	dst = append(dst, `","name":"`...)
	dst = append(dst, r.Name...)
	dst = append(dst, `","data":`...)
	if r.Data == nil {
		dst = append(dst, "null"...)
	} else {
		// encoding/json compacts a RawMessage and HTML-escapes its strings; json.Compact does
		// the first (into dst, which it truncates again on an error), and when the result holds
		// nothing the second would change, it is done.
		buf := bytes.NewBuffer(dst)
		mark := len(dst)
		err := json.Compact(buf, r.Data)
		dst = buf.Bytes()
		if err != nil || needsHTMLEscape(dst[mark:]) {
			return r.marshal(dst[:start])
		}
	}
	dst = append(dst, `,"owner":"`...)
	dst = append(dst, r.Owner...)
	dst = append(dst, `","created_at":"`...)
	dst = r.CreatedAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","updated_at":"`...)
	dst = r.UpdatedAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `"}`...)
	return dst, nil
}

// marshal is AppendJSON's slow path: encoding/json itself.
func (r Record) marshal(dst []byte) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// plain reports whether encoding/json writes s as it is between its quotes: printable ASCII
// without the characters it escapes (", \ and, HTML-safe, <, > and &).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x80, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// needsHTMLEscape reports whether compacted JSON holds a byte encoding/json's HTML escaping
// rewrites: <, >, & or the first byte of U+2028 and U+2029 (and of other characters: a false
// positive only costs the slow path).
func needsHTMLEscape(b []byte) bool {
	for _, c := range b {
		if c == '<' || c == '>' || c == '&' || c == 0xe2 {
			return true
		}
	}
	return false
}

// utcTime reports whether t is in UTC with a year time.Time.MarshalJSON accepts, so that
// AppendFormat with RFC 3339 writes what MarshalJSON would.
func utcTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off == 0 && t.Location() == time.UTC
}
