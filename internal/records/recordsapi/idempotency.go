package recordsapi

import (
	"net/http"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/records"
)

// idempotencyKey reads the Idempotency-Key header: absent is fine, malformed is EInvalid (400).
func idempotencyKey(r *http.Request) (*records.Idempotency, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return nil, nil
	}
	key := vals[0]
	if len(vals) > 1 || len(key) < 1 || len(key) > 255 {
		return nil, decagon.Errorf(decagon.EInvalid, "Idempotency-Key must be one value of 1 to 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return nil, decagon.Errorf(decagon.EInvalid, "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return &records.Idempotency{Key: key}, nil
}
