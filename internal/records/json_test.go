package records

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestRecordAppendJSON: AppendJSON writes json.Marshal's bytes, on its fast path and off it,
// after what dst already holds, and fails where json.Marshal fails.
func TestRecordAppendJSON(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 123456000, time.UTC)
	base := Record{ID: "0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b", Name: "bench", Owner: "c1d2e3f4-0000-4000-8000-000000000001",
		Data: json.RawMessage(`{"colour":"blue","size":42,"tags":["a","b"]}`), CreatedAt: at, UpdatedAt: at.Add(time.Second)}
	with := func(f func(*Record)) Record { r := base; f(&r); return r }
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	cases := map[string]Record{
		"plain":                base,
		"nil data":             with(func(r *Record) { r.Data = nil }),
		"null data":            with(func(r *Record) { r.Data = json.RawMessage("null") }),
		"data with spaces":     with(func(r *Record) { r.Data = json.RawMessage("{ \"k\" :\t[1, 2] }\n") }),
		"data with html":       with(func(r *Record) { r.Data = json.RawMessage(`{"k":"<a href='x'>&amp;</a>"}`) }),
		"data with U+2028":     with(func(r *Record) { r.Data = json.RawMessage("{\"k\":\"a\u2028b\u2029\"}") }),
		"data with other â":    with(func(r *Record) { r.Data = json.RawMessage(`{"k":"€ – ok"}`) }),
		"data with escapes":    with(func(r *Record) { r.Data = json.RawMessage(`{"k":"\u003c\n\"\\"}`) }),
		"unicode name":         with(func(r *Record) { r.Name = "café 😀" }),
		"name with quote":      with(func(r *Record) { r.Name = `a"b\c` }),
		"name with control":    with(func(r *Record) { r.Name = "a\tb\x01" }),
		"name with html":       with(func(r *Record) { r.Name = "<script>&" }),
		"name with U+2028":     with(func(r *Record) { r.Name = "a\u2028b" }),
		"invalid UTF-8 name":   with(func(r *Record) { r.Name = "a\xffb" }),
		"empty strings":        with(func(r *Record) { r.ID, r.Name, r.Owner = "", "", "" }),
		"zero times":           with(func(r *Record) { r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{} }),
		"whole seconds":        with(func(r *Record) { r.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }),
		"nanoseconds":          with(func(r *Record) { r.UpdatedAt = time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC) }),
		"other zone":           with(func(r *Record) { r.CreatedAt = at.In(paris) }),
		"fixed zero-offset":    with(func(r *Record) { r.CreatedAt = at.In(time.FixedZone("X", 0)) }),
		"year 10000":           with(func(r *Record) { r.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"year -1":              with(func(r *Record) { r.CreatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"invalid data":         with(func(r *Record) { r.Data = json.RawMessage(`{"k":`) }),
		"empty non-nil data":   with(func(r *Record) { r.Data = json.RawMessage{} }),
		"html and plain names": with(func(r *Record) { r.Owner = "o&o" }),
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			want, wantErr := json.Marshal(r)
			got, err := r.AppendJSON([]byte("prefix"))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Fatalf("got  %s\nwant prefix%s", got, want)
			}
		})
	}
}

// FuzzRecordAppendJSON holds AppendJSON to json.Marshal for any name and data.
func FuzzRecordAppendJSON(f *testing.F) {
	f.Add("bench", "ab", []byte(`{"k":[1, 2]}`), int64(0))
	f.Add("é<", "", []byte("{\"k\":\"\u2028\"}"), int64(-1))
	f.Add("a\xff", "x\"", []byte(`{`), int64(1<<40))
	f.Fuzz(func(t *testing.T, name, owner string, data []byte, nanos int64) {
		at := time.Unix(0, nanos).UTC()
		r := Record{ID: "0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b", Name: name, Owner: owner, Data: data, CreatedAt: at, UpdatedAt: at}
		want, wantErr := json.Marshal(r)
		got, err := r.AppendJSON(nil)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

// BenchmarkRecordJSON compares AppendJSON with json.Marshal for a record a GET returns.
func BenchmarkRecordJSON(b *testing.B) {
	at := time.Now().UTC()
	r := Record{ID: "0190a0d4-7f2c-7c4e-8a1b-2c3d4e5f6a7b", Name: "bench", Owner: "c1d2e3f4-0000-4000-8000-000000000001",
		Data: json.RawMessage(`{"colour": "blue", "size": 42, "tags": ["a", "b"]}`), CreatedAt: at, UpdatedAt: at}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf, _ = r.AppendJSON(buf[:0])
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(r)
		}
	})
}
