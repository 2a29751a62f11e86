package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/uploads"
)

// LegacyPendingUpload is the row a backend's migration test inserts into the uploads table as
// 00002 left it: a pending upload presigned at LegacyPresignedAt, with no expires_at column yet.
// Each backend writes it in its own SQL; CheckLegacyPendingExpiry checks what 00003 made of it.
const LegacyPendingUpload = `INSERT INTO uploads (upload_id, owner, filename, content_type, size, status, created_at)
		VALUES (%s, 'alice', 'a.pdf', 'application/pdf', 10, 'pending', '2031-03-04T05:06:07.123456Z')`

// LegacyPresignedAt is the created_at of LegacyPendingUpload.
var LegacyPresignedAt = time.Date(2031, 3, 4, 5, 6, 7, 123456000, time.UTC)

// CheckLegacyPendingExpiry checks, on a store migrated past 00003, that the upload
// LegacyPendingUpload inserted got the 15-minute expiry its URL had, so the reaper can remove
// it once abandoned: it is claimed a microsecond after that expiry.
func CheckLegacyPendingExpiry(ctx context.Context, t *testing.T, s uploads.Store) {
	t.Helper()
	want := LegacyPresignedAt.Add(15 * time.Minute) // the URL lifetime migration 00003 gives old rows
	got, err := s.ClaimExpired(ctx, want.Add(time.Microsecond), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimExpired = %v, %v; want the old pending upload", got, err)
	}
	if !got[0].ExpiresAt.Equal(want) {
		t.Errorf("expires_at %s, want %s", got[0].ExpiresAt, want)
	}
}
