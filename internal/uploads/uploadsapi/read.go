package uploadsapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

// view is an upload as GET answers it: the metadata and, once available, a download URL.
type view struct {
	uploads.Upload
	DownloadURL       string     `json:"download_url,omitempty"`
	DownloadExpiresAt *time.Time `json:"download_expires_at,omitempty"`
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	redirect := false
	if v, ok := r.URL.Query()["redirect"]; ok {
		switch {
		case len(v) == 1 && v[0] == "true":
			redirect = true
		case len(v) == 1 && v[0] == "false":
		default:
			return decagon.Errorf(decagon.EInvalid, "redirect must be true or false")
		}
	}
	_, u, err := h.lookup(r)
	if err != nil {
		return err
	}
	out := view{Upload: u}
	if u.Status != uploads.StatusAvailable {
		if redirect {
			return decagon.Errorf(decagon.EConflict, "the upload is not complete yet; complete it before downloading")
		}
		return web.WriteJSON(w, http.StatusOK, out)
	}
	su, err := h.Blobs.SignedURL(r.Context(), uploads.ObjectKey(u.Owner, u.ID), blob.SignOptions{
		Method: http.MethodGet, Expiry: defaultDownloadTTL, ContentType: u.ContentType,
		ContentDisposition: uploads.ContentDisposition(u.Filename),
	})
	if err != nil {
		return fmt.Errorf("sign download %s: %w", u.ID, err)
	}
	if redirect {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, su.URL, http.StatusFound)
		return nil
	}
	exp := su.ExpiresAt.UTC()
	out.DownloadURL, out.DownloadExpiresAt = su.URL, &exp
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	caller, u, err := h.lookup(r)
	if err != nil {
		return err
	}
	// Object first: if that fails the row stays and the client can retry the DELETE.
	if err := h.Blobs.Delete(r.Context(), uploads.ObjectKey(u.Owner, u.ID)); err != nil {
		return fmt.Errorf("delete object of %s: %w", u.ID, err)
	}
	if err := h.Store.Delete(r.Context(), u.ID, caller.Scope()); err != nil {
		return fmt.Errorf("delete upload %s: %w", u.ID, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lookup returns the caller and the upload the path names, when the caller may see it.
func (h *Handler) lookup(r *http.Request) (service.Caller, uploads.Upload, error) {
	caller, err := service.CallerOf(r)
	if err != nil {
		return service.Caller{}, uploads.Upload{}, err
	}
	id, err := web.PathUUID(r, "upload_id")
	if err != nil {
		return caller, uploads.Upload{}, err
	}
	u, err := h.Store.Get(r.Context(), id, caller.Scope())
	if err != nil {
		return caller, uploads.Upload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	return caller, u, nil
}

// listUploads reads h.Store when a request comes, not when the routes are made.
func (h *Handler) listUploads(ctx context.Context, req listing.Request) ([]uploads.Upload, bool, error) {
	return h.Store.List(ctx, req)
}
