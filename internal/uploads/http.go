package uploads

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
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/page"
	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/web"
)

// Defaults of the service.
const (
	// DefaultMaxUpload is API Gateway's payload limit: larger files go through a presigned PUT.
	DefaultMaxUpload = 10 << 20
	// MaxPresignSize is the largest file a presigned PUT takes (S3's single PUT limit).
	MaxPresignSize     = blob.MaxPutSize
	defaultPresignTTL  = 15 * time.Minute
	defaultDownloadTTL = 5 * time.Minute
	// BlobPrefix is where the file store's signed URLs are served.
	BlobPrefix = "/upload/_blob/"
)

// Bucket is what the service needs of the object store; *blob.Bucket implements it.
type Bucket interface {
	Put(ctx context.Context, key string, r io.Reader, o blob.PutOptions) (int64, error)
	NewReader(ctx context.Context, key string) (*blob.Reader, error)
	Stat(ctx context.Context, key string) (blob.Attrs, error)
	Delete(ctx context.Context, key string) error
	SignedURL(ctx context.Context, key string, o blob.SignOptions) (blob.SignedURL, error)
	SignedHandler(prefix string) http.Handler
}

// Handler serves the uploads API.
type Handler struct {
	Store Store
	Blobs Bucket
	// MaxUpload bounds a direct upload; 0 means DefaultMaxUpload.
	MaxUpload int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Routes returns the handlers keyed by ServeMux pattern; each is an operation of
// api/openapi.yaml.
func (h *Handler) Routes() map[string]http.Handler {
	signed := h.Blobs.SignedHandler(BlobPrefix)
	return map[string]http.Handler{
		"POST /upload":                                  web.Handler(h.create),
		"GET /upload":                                   web.Handler(h.list),
		"POST /upload/presign":                          web.Handler(h.presign),
		"POST /upload/{upload_id}/complete":             web.Handler(h.complete),
		"GET /upload/{upload_id}":                       web.Handler(h.get),
		"DELETE /upload/{upload_id}":                    web.Handler(h.delete),
		"GET /upload/_blob/uploads/{owner}/{upload_id}": signed,
		"PUT /upload/_blob/uploads/{owner}/{upload_id}": signed,
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) maxUpload() int64 {
	if h.MaxUpload > 0 {
		return h.MaxUpload
	}
	return DefaultMaxUpload
}

// objectKey is where an upload's bytes live. It never contains user input: the owner is hashed
// and the ID is ours.
func objectKey(owner, id string) string {
	sum := sha256.Sum256([]byte(owner))
	return "uploads/" + hex.EncodeToString(sum[:16]) + "/" + id
}

// source is the file part of a direct upload.
type source struct {
	r           io.Reader
	filename    string
	contentType string
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	// The form around the file may add a little; the file itself is bounded by Put.
	r.Body = http.MaxBytesReader(w, r.Body, h.maxUpload()+64<<10)
	src, err := directSource(r)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new upload id: %w", err)
	}
	u := Upload{ID: id.String(), Owner: caller.Subject, Filename: src.filename, Status: StatusAvailable,
		CreatedAt: h.now().UTC().Truncate(time.Microsecond)}
	key := objectKey(u.Owner, u.ID)

	head := make([]byte, sniffLen)
	n, err := io.ReadFull(src.r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return readProblem(err, h.maxUpload())
	}
	head = head[:n]
	u.ContentType = chooseContentType(src.contentType, http.DetectContentType(head))
	hash := sha256.New()
	body := io.TeeReader(io.MultiReader(bytes.NewReader(head), src.r), hash)
	// The object is written before its row: a crash in between leaves an object nobody can
	// see, never a row without its bytes.
	size, err := h.Blobs.Put(r.Context(), key, body, blob.PutOptions{ContentType: u.ContentType, MaxSize: h.maxUpload(), IfNotExist: true})
	if err != nil {
		if errors.Is(err, blob.ErrTooLarge) {
			return problem.Newf(http.StatusRequestEntityTooLarge, "the file exceeds %d bytes; use POST /upload/presign for large files", h.maxUpload())
		}
		return readProblem(err, h.maxUpload())
	}
	u.Size, u.SHA256 = size, hex.EncodeToString(hash.Sum(nil))
	if err := h.Store.Create(r.Context(), u); err != nil {
		h.removeObject(key)
		return fmt.Errorf("create upload: %w", err)
	}
	w.Header().Set("Location", "/upload/"+u.ID)
	return web.WriteJSON(w, http.StatusCreated, u)
}

// readProblem maps an error reading the client's body to a problem: too large is 413, a broken
// body is the client's 400; anything else is ours.
func readProblem(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return problem.Newf(http.StatusRequestEntityTooLarge, "the request exceeds %d bytes", limit)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.Canceled):
		return &problem.Problem{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "the request body ended early", Cause: err}
	case strings.Contains(err.Error(), "multipart"):
		return &problem.Problem{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "malformed multipart body", Cause: err}
	}
	return fmt.Errorf("store upload: %w", err)
}

// directSource finds the file in a direct upload: the "file" part of a multipart form, or the
// raw body with ?filename=.
func directSource(r *http.Request) (source, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return source{}, problem.New(http.StatusUnsupportedMediaType, "Content-Type is required: multipart/form-data with a file part, or the file's own type with ?filename=")
	}
	if mt != "multipart/form-data" {
		name := r.URL.Query().Get("filename")
		if name == "" {
			return source{}, problem.New(http.StatusBadRequest, "a raw upload needs ?filename=")
		}
		return source{r: r.Body, filename: sanitizeFilename(name), contentType: ct}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return source{}, problem.New(http.StatusBadRequest, "malformed multipart body: "+err.Error())
	}
	for parts := 0; parts < 16; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return source{}, readProblem(fmt.Errorf("multipart: %w", err), 0)
		}
		if part.FormName() != "file" {
			// Other fields are not ours to keep; skip them without storing.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 64<<10)); err != nil {
				return source{}, readProblem(fmt.Errorf("multipart: %w", err), 0)
			}
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		return source{r: part, filename: sanitizeFilename(name), contentType: part.Header.Get("Content-Type")}, nil
	}
	return source{}, problem.New(http.StatusBadRequest, `the multipart body has no "file" part`)
}

// removeObject deletes an object the request could not keep, even if the client went away.
func (h *Handler) removeObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = h.Blobs.Delete(ctx, key)
}

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
		return problem.New(http.StatusBadRequest, `field "filename" is required`)
	case baseType(in.ContentType) == "":
		return problem.New(http.StatusBadRequest, `field "content_type" must be a media type such as application/pdf`)
	case in.Size == nil:
		return problem.New(http.StatusBadRequest, `field "size" is required`)
	case *in.Size < 0 || *in.Size > MaxPresignSize:
		return problem.Newf(http.StatusBadRequest, `field "size" must be 0 to %d bytes`, int64(MaxPresignSize))
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new upload id: %w", err)
	}
	u := Upload{ID: id.String(), Owner: caller.Subject, Filename: sanitizeFilename(in.Filename),
		ContentType: normalized(in.ContentType), Size: *in.Size, Status: StatusPending,
		CreatedAt: h.now().UTC().Truncate(time.Microsecond)}
	su, err := h.Blobs.SignedURL(r.Context(), objectKey(u.Owner, u.ID), blob.SignOptions{
		Method: http.MethodPut, Expiry: defaultPresignTTL, ContentType: u.ContentType, ContentLength: u.Size,
	})
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
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
	if u.Status == StatusAvailable {
		return web.WriteJSON(w, http.StatusOK, u)
	}
	key := objectKey(u.Owner, u.ID)
	attrs, err := h.Blobs.Stat(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return problem.New(http.StatusConflict, "the file has not been uploaded to its URL yet")
	}
	if err != nil {
		return fmt.Errorf("stat upload %s: %w", u.ID, err)
	}
	if attrs.Size != u.Size {
		// The signed PUT cannot replace an object; remove the wrong one so a retry can succeed.
		h.removeObject(key)
		return problem.Newf(http.StatusConflict, "the uploaded file has %d bytes, %d were announced; upload it again", attrs.Size, u.Size)
	}
	rd, err := h.Blobs.NewReader(r.Context(), key)
	if err != nil {
		return fmt.Errorf("read upload %s: %w", u.ID, err)
	}
	defer rd.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(rd, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read upload %s: %w", u.ID, err)
	}
	hash := sha256.New()
	hash.Write(head[:n])
	if _, err := io.Copy(hash, rd); err != nil {
		return fmt.Errorf("hash upload %s: %w", u.ID, err)
	}
	ct := chooseContentType(u.ContentType, http.DetectContentType(head[:n]))
	u, err = h.Store.Complete(r.Context(), u.ID, caller.Scope(), ct, attrs.Size, hex.EncodeToString(hash.Sum(nil)))
	if err != nil {
		return fmt.Errorf("complete upload %s: %w", u.ID, err)
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

// view is an upload as GET answers it: the metadata and, once available, a download URL.
type view struct {
	Upload
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
			return problem.New(http.StatusBadRequest, "redirect must be true or false")
		}
	}
	_, u, err := h.lookup(r)
	if err != nil {
		return err
	}
	out := view{Upload: u}
	if u.Status != StatusAvailable {
		if redirect {
			return problem.New(http.StatusConflict, "the upload is not complete yet")
		}
		return web.WriteJSON(w, http.StatusOK, out)
	}
	su, err := h.Blobs.SignedURL(r.Context(), objectKey(u.Owner, u.ID), blob.SignOptions{
		Method: http.MethodGet, Expiry: defaultDownloadTTL, ContentType: u.ContentType,
		ContentDisposition: contentDisposition(u.Filename),
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
	if err := h.Blobs.Delete(r.Context(), objectKey(u.Owner, u.ID)); err != nil {
		return fmt.Errorf("delete object of %s: %w", u.ID, err)
	}
	if err := h.Store.Delete(r.Context(), u.ID, caller.Scope()); err != nil {
		return fmt.Errorf("delete upload %s: %w", u.ID, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lookup returns the caller and the upload the path names, when the caller may see it.
func (h *Handler) lookup(r *http.Request) (service.Caller, Upload, error) {
	caller, err := service.CallerOf(r)
	if err != nil {
		return service.Caller{}, Upload{}, err
	}
	id, err := web.PathUUID(r, "upload_id")
	if err != nil {
		return caller, Upload{}, err
	}
	u, err := h.Store.Get(r.Context(), id, caller.Scope())
	if err != nil {
		return caller, Upload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	return caller, u, nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	caller, err := service.CallerOf(r)
	if err != nil {
		return err
	}
	q, err := page.ParseQuery(r.URL.Query(), caller.Subject, caller.Admin)
	if err != nil {
		return err
	}
	items, more, err := h.Store.List(r.Context(), Page{Owner: q.Owner, Limit: q.Limit, After: q.After})
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	body := page.NewBody(items, more, func(it Upload) page.Position {
		return page.Position{CreatedAt: it.CreatedAt, ID: it.ID}
	})
	return web.WriteJSON(w, http.StatusOK, body)
}
