package uploadsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/web"
)

// EnvelopeAllowance is what the multipart envelope around the file (boundaries, part headers,
// a few small fields) may add to the body: --max-upload counts the file's bytes only.
const EnvelopeAllowance = 8 << 10

// MaxRequestBytes is the largest POST /upload body for a file limit of maxUpload bytes: what a
// proxy in front of the service (the edge's payload limit) must let through so that a file of
// exactly maxUpload bytes sent as multipart/form-data arrives whole.
func MaxRequestBytes(maxUpload int64) int64 { return maxUpload + EnvelopeAllowance }

// maxParts bounds how many parts a direct upload's form may hold before its file.
const maxParts = 16

// source is the file of a direct upload.
type source struct {
	r           io.Reader
	filename    string
	contentType string
}

// clientBodyError is an error reading the client's body (a broken or malformed upload), told
// apart from the object store's errors with errors.As wherever it surfaces.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "read request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// bodyReader tags every read error of the client's body as a clientBodyError.
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &clientBodyError{err}
	}
	return n, err
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	// The body may exceed the file by the envelope's allowance; the file itself is bounded by
	// Put's MaxSize, so a file of exactly MaxUpload bytes is accepted however it is sent.
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes(h.maxUpload()))
	src, err := directSource(r)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new upload id: %w", err)
	}
	u := uploads.Upload{ID: id.String(), Owner: caller.Subject, Filename: src.filename, Status: uploads.StatusAvailable,
		CreatedAt: h.now().UTC().Truncate(time.Microsecond)}
	key := uploads.ObjectKey(u.Owner, u.ID)

	head := make([]byte, uploads.SniffLen)
	n, err := io.ReadFull(src.r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return h.readError(err)
	}
	head = head[:n]
	u.ContentType = uploads.ChooseContentType(src.contentType, http.DetectContentType(head))
	hash := sha256.New()
	body := io.TeeReader(io.MultiReader(bytes.NewReader(head), src.r), hash)
	// The object is written before its row: a crash in between leaves an object nobody can
	// see, never a row without its bytes.
	size, err := h.Blobs.Put(r.Context(), key, body, blob.PutOptions{ContentType: u.ContentType, MaxSize: h.maxUpload(), IfNotExist: true})
	if err != nil {
		return h.readError(err)
	}
	u.Size, u.SHA256 = size, hex.EncodeToString(hash.Sum(nil))
	if err := h.Store.Create(r.Context(), u); err != nil {
		h.removeObject(key)
		return fmt.Errorf("create upload: %w", err)
	}
	w.Header().Set("Location", "/upload/"+u.ID)
	return web.WriteJSON(w, http.StatusCreated, u)
}

// readError maps an error storing a direct upload: a file over the limit is ETooLarge (413), a
// body that breaks off or is malformed is the client's EInvalid (400); anything else (the
// object store's) is passed on as it is.
func (h *Handler) readError(err error) error {
	var tooBig *http.MaxBytesError
	var body *clientBodyError
	switch {
	case errors.Is(err, blob.ErrTooLarge), errors.As(err, &tooBig):
		return decagon.Wrap(decagon.ETooLarge, err,
			fmt.Sprintf("the file exceeds %d bytes; use POST /upload/presign for large files", h.maxUpload()))
	case errors.As(err, &body), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.Canceled):
		return decagon.Wrap(decagon.EInvalid, err, "the request body ended early or is not well-formed multipart/form-data; send it again")
	}
	return fmt.Errorf("store upload: %w", err)
}

// directSource finds the file in a direct upload: the "file" part of a multipart form, or the
// raw body with ?filename=.
func directSource(r *http.Request) (source, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return source{}, unsupportedMedia()
	}
	if mt != "multipart/form-data" {
		name := r.URL.Query().Get("filename")
		if name == "" {
			return source{}, decagon.Errorf(decagon.EInvalid, "a raw upload needs ?filename=")
		}
		return source{r: bodyReader{r.Body}, filename: uploads.SanitizeFilename(name), contentType: ct}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return source{}, decagon.Wrap(decagon.EInvalid, err, "Content-Type multipart/form-data needs a boundary parameter")
	}
	for parts := 0; parts < maxParts; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return source{}, multipartError(err)
		}
		if part.FormName() != "file" {
			// Other fields are not ours to keep; skip them without storing. The body's limit
			// bounds what skipping reads.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return source{}, multipartError(err)
			}
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		return source{r: bodyReader{part}, filename: uploads.SanitizeFilename(name), contentType: part.Header.Get("Content-Type")}, nil
	}
	return source{}, decagon.Errorf(decagon.EInvalid, `the multipart body has no "file" part among its first %d parts`, maxParts)
}

// multipartError classifies an error from the multipart reader before the file part: an
// envelope over the limit is ETooLarge, anything else a malformed body (EInvalid).
func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return decagon.Wrap(decagon.ETooLarge, err, "the form around the file is too large")
	}
	return decagon.Wrap(decagon.EInvalid, err, "malformed multipart/form-data body; send the file in a part named \"file\"")
}

// unsupportedMedia is a 415: decagon's codes have none, so the adapter answers it itself.
func unsupportedMedia() error {
	return problem.New(http.StatusUnsupportedMediaType, "Content-Type is required: multipart/form-data with a file part, or the file's own type with ?filename=")
}
