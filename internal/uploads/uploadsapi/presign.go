package uploadsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

// presignRequest is the POST /upload/presign body.
type presignRequest struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        *int64 `json:"size"`
}

// presignResponse tells the client how to PUT its bytes.
type presignResponse struct {
	UploadID  string            `json:"upload_id"`
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

func (h *Handler) presign(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	var in presignRequest
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	switch {
	case in.Filename == "":
		return decagon.Errorf(decagon.EInvalid, `field "filename" is required`)
	case uploads.BaseType(in.ContentType) == "":
		return decagon.Errorf(decagon.EInvalid, `field "content_type" must be a media type such as application/pdf`)
	case in.Size == nil:
		return decagon.Errorf(decagon.EInvalid, `field "size" is required`)
	case *in.Size < 0:
		return decagon.Errorf(decagon.EInvalid, `field "size" must be 0 or more bytes`)
	case *in.Size > h.maxPresignedSize():
		return decagon.Errorf(decagon.EInvalid, `field "size" is %d bytes; this service accepts files of at most %d bytes`, *in.Size, h.maxPresignedSize())
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new upload id: %w", err)
	}
	u := uploads.Upload{ID: id.String(), Owner: caller.Subject, Filename: uploads.SanitizeFilename(in.Filename),
		ContentType: uploads.Normalized(in.ContentType), Size: *in.Size, Status: uploads.StatusPending,
		CreatedAt: h.now().UTC().Truncate(time.Microsecond)}
	su, err := h.Blobs.SignedURL(r.Context(), uploads.ObjectKey(u.Owner, u.ID), blob.SignOptions{
		Method: http.MethodPut, Expiry: defaultPresignTTL, ContentType: u.ContentType, ContentLength: u.Size,
	})
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
	// The row remembers the URL's expiry: until then an object may arrive, so the reaper
	// removes the upload only after it, if it is never completed.
	u.ExpiresAt = su.ExpiresAt.UTC()
	if err := h.Store.Create(r.Context(), u); err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	headers := map[string]string{}
	for k := range su.Header {
		headers[k] = su.Header.Get(k)
	}
	w.Header().Set("Location", "/upload/"+u.ID)
	return web.WriteJSON(w, http.StatusCreated, presignResponse{
		UploadID: u.ID, URL: su.URL, Method: su.Method, Headers: headers, ExpiresAt: su.ExpiresAt.UTC(),
	})
}

func (h *Handler) complete(w http.ResponseWriter, r *http.Request) error {
	caller, u, err := h.lookup(r)
	if err != nil {
		return err
	}
	if u.Status == uploads.StatusAvailable {
		return web.WriteJSON(w, http.StatusOK, u)
	}
	key := uploads.ObjectKey(u.Owner, u.ID)
	attrs, err := h.Blobs.Stat(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return decagon.Errorf(decagon.EConflict, "the file has not been uploaded to its URL yet; PUT it there, then complete")
	}
	if err != nil {
		return fmt.Errorf("stat upload %s: %w", u.ID, err)
	}
	if attrs.Size != u.Size {
		// The signed PUT cannot replace an object; remove the wrong one so a retry can succeed.
		h.removeObject(key)
		return decagon.Errorf(decagon.EConflict, "the uploaded file has %d bytes, %d were announced; upload it again", attrs.Size, u.Size)
	}
	rd, err := h.Blobs.NewReader(r.Context(), key)
	if err != nil {
		return fmt.Errorf("read upload %s: %w", u.ID, err)
	}
	defer rd.Close()
	head := make([]byte, uploads.SniffLen)
	n, err := io.ReadFull(rd, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read upload %s: %w", u.ID, err)
	}
	hash := sha256.New()
	hash.Write(head[:n])
	if _, err := io.Copy(hash, rd); err != nil {
		return fmt.Errorf("hash upload %s: %w", u.ID, err)
	}
	ct := uploads.ChooseContentType(u.ContentType, http.DetectContentType(head[:n]))
	u, err = h.Store.Complete(r.Context(), u.ID, caller.Scope(), ct, attrs.Size, hex.EncodeToString(hash.Sum(nil)))
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", u.ID, err)
	}
	return web.WriteJSON(w, http.StatusOK, u)
}
