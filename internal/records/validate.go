package records

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"

	"github.com/decagon/decagon"
)

// New is what a caller sends to create a record. A nil Name is a missing field.
type New struct {
	Name *string
	Data json.RawMessage
}

// Validate applies the API's rules to in and returns the name and the data as stored (compacted,
// nil for a missing or null data). Every refusal is a decagon error written for the client:
// EInvalid for a missing or malformed field, ETooLarge for data over MaxDataBytes.
func Validate(in New) (string, json.RawMessage, error) {
	if in.Name == nil {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "name" is required`)
	}
	name := *in.Name
	if !utf8.ValidString(name) {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "name" must be valid UTF-8`)
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxNameLength {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "name" must be 1 to %d characters, got %d`, MaxNameLength, n)
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return name, nil, nil
	}
	if data[0] != '{' {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "data" must be a JSON object`)
	}
	if !utf8.Valid(data) {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "data" must be valid UTF-8`)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return "", nil, decagon.Errorf(decagon.EInvalid, `field "data" is malformed JSON`)
	}
	if compact.Len() > MaxDataBytes {
		return "", nil, decagon.Errorf(decagon.ETooLarge, `field "data" exceeds %d bytes once compacted`, MaxDataBytes)
	}
	return name, compact.Bytes(), nil
}

// RequestHash is the hash an Idempotency-Key is tied to: the SHA-256 of the name and the
// compacted data, so a retry that changes either is told apart from a replay.
func RequestHash(name string, data json.RawMessage) string {
	sum := sha256.Sum256(append(append([]byte(name), 0), data...))
	return hex.EncodeToString(sum[:])
}
