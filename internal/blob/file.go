package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

type fileBackend struct {
	dir    string
	signer *URLSigner
	public *url.URL // ends in "/"
}

func openFile(u *url.URL, opts Options) (*Bucket, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("file URL host must be empty (file:///ABSOLUTE/DIR), got %q", u.Host)
	}
	if u.RawQuery != "" {
		return nil, errors.New("file URL takes no query parameters")
	}
	if !filepath.IsAbs(u.Path) {
		return nil, fmt.Errorf("file URL needs an absolute directory, got %q", u.Path)
	}
	dir := filepath.Clean(u.Path)
	signer, err := NewURLSigner(opts.URLSecret)
	if err != nil {
		return nil, err
	}
	public, err := parsePublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create directory: %w", err)
	}
	// NoTempDir: temporary files go beside their object, so the final rename never crosses a
	// file system (os.TempDir often is another one). A crash can strand a *.tmp file; ValidKey
	// keeps such names out of the key space.
	//
	// MetadataDontWrite: fileblob's own sidecar writer hashes every byte with MD5 (its Attributes
	// report it; nothing here reads it) and writes the sidecar without fsync. prepareWrite writes
	// the sidecar itself, in the format fileblob reads, so the write path is one pass over the
	// bytes; reads still take the content type from the sidecar.
	gb, err := fileblob.OpenBucket(dir, &fileblob.Options{DirFileMode: 0o700, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, err
	}
	signer.now = opts.Now
	return &Bucket{bucket: gb, backend: &fileBackend{dir: dir, signer: signer, public: public}}, nil
}

func parsePublicURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("file backend needs Options.PublicURL (where SignedHandler is mounted)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("public URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("public URL %q must be an absolute http(s) URL without query", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func (f *fileBackend) String() string { return "file://" + f.dir }

// prepareWrite makes the write durable, which fileblob alone does not: it renames its temporary
// file into place without fsync. Before Close (the rename) we fsync the temporary file's data
// once — never per write — and put the sidecar with the content type in place, fsynced, so an
// object never appears without it; after Close, every directory from the object's up to the
// root, so the new names survive a crash too. When Close then fails (the context was cancelled
// in between, or the rename failed), the sidecar that was there before is put back, so a failed
// write leaves an existing object's content type as it was.
func (f *fileBackend) prepareWrite(key string, opts *gcblob.WriterOptions) writeHooks {
	var tmp *os.File
	opts.BeforeWrite = func(as func(any) bool) error {
		if !as(&tmp) || tmp == nil {
			return errors.New("fileblob did not expose its temporary file")
		}
		return nil
	}
	// A valid key is its own relative path: fileblob escapes none of its characters.
	final := filepath.Join(f.dir, filepath.FromSlash(key))
	ct, ifNotExist := opts.ContentType, opts.IfNotExist
	var replaced bool   // the sidecar was written
	var previous []byte // the sidecar it replaced; nil if there was none
	before := func() error {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		// fileblob checks again in Close; checking here too keeps a refused write from replacing
		// the existing object's sidecar.
		if ifNotExist {
			if _, err := os.Lstat(final); err == nil {
				return fmt.Errorf("%w: %s", ErrExists, key)
			}
		}
		old, err := os.ReadFile(final + ".attrs")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sidecar: %w", err)
		}
		b, err := json.Marshal(sidecar{ContentType: ct})
		if err != nil {
			return fmt.Errorf("sidecar: %w", err)
		}
		if err := writeAtomic(final+".attrs", append(b, '\n')); err != nil {
			return err
		}
		replaced, previous = true, old
		return nil
	}
	after := func() error {
		for d := filepath.Dir(final); ; d = filepath.Dir(d) {
			if err := syncPath(d); err != nil {
				return err
			}
			if d == f.dir || len(d) <= len(f.dir) {
				return nil
			}
		}
	}
	failed := func() error {
		switch {
		case !replaced:
			return nil
		case previous == nil:
			if err := os.Remove(final + ".attrs"); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove sidecar: %w", err)
			}
			return nil
		default:
			return writeAtomic(final+".attrs", previous)
		}
	}
	return writeHooks{beforeClose: before, afterClose: after, failedClose: failed}
}

// sidecar is fileblob's attributes file (its xattrs type, same JSON names): fileblob reads the
// content type from it. The MD5 it would hold is left out; fileblob then reports none.
type sidecar struct {
	CacheControl       string            `json:"user.cache_control"`
	ContentDisposition string            `json:"user.content_disposition"`
	ContentEncoding    string            `json:"user.content_encoding"`
	ContentLanguage    string            `json:"user.content_language"`
	ContentType        string            `json:"user.content_type"`
	Metadata           map[string]string `json:"user.metadata"`
	MD5                []byte            `json:"md5"`
}

// writeAtomic puts a small file in place durably: written to a temporary name, fsynced and
// renamed, so a crash or an overwrite never leaves a torn sidecar (which would make its object
// unreadable). The ".tmp" suffix keeps a stranded temporary file out of the key space (ValidKey).
func writeAtomic(name string, data []byte) error {
	fd, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := fd.Name()
	_, err = fd.Write(data)
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// syncPath fsyncs a file or directory by name.
func syncPath(name string) error {
	fd, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	err = fd.Sync()
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", name, err)
	}
	return nil
}

func (f *fileBackend) sign(_ context.Context, key string, o SignOptions, now time.Time) (SignedURL, error) {
	exp := now.Add(o.Expiry).Truncate(time.Second) // tokens carry whole seconds
	g := Grant{Method: o.Method, Key: key, Expires: exp, ContentType: o.ContentType, ContentDisposition: o.ContentDisposition}
	h := http.Header{}
	if o.Method == http.MethodPut {
		g.ContentLength = o.ContentLength
		h.Set("Content-Type", o.ContentType)
		h.Set("Content-Length", fmt.Sprint(o.ContentLength))
		h.Set("If-None-Match", "*")
	}
	token, err := f.signer.Sign(g)
	if err != nil {
		return SignedURL{}, err
	}
	u := *f.public
	u.Path += key
	u.RawQuery = url.Values{TokenParam: {token}}.Encode()
	return SignedURL{URL: u.String(), Method: o.Method, Header: h, ExpiresAt: exp}, nil
}

func (f *fileBackend) ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := os.CreateTemp(f.dir, ".ping-*")
	if err != nil {
		return fmt.Errorf("directory not writable: %w", err)
	}
	name := fd.Name()
	err = fd.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
