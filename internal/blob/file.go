package blob

import (
	"context"
	"errors"
	"fmt"
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
	gb, err := fileblob.OpenBucket(dir, &fileblob.Options{DirFileMode: 0o700, NoTempDir: true})
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
// file into place without fsync. Before Close we fsync the temporary file's data; after Close
// (rename done) the sidecar with the content type and every directory from the object's up to
// the root, so the new names survive a crash too.
func (f *fileBackend) prepareWrite(key string, opts *gcblob.WriterOptions) (func() error, func() error) {
	var tmp *os.File
	opts.BeforeWrite = func(as func(any) bool) error {
		if !as(&tmp) || tmp == nil {
			return errors.New("fileblob did not expose its temporary file")
		}
		return nil
	}
	before := func() error {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		return nil
	}
	after := func() error {
		// A valid key is its own relative path: fileblob escapes none of its characters.
		final := filepath.Join(f.dir, filepath.FromSlash(key))
		if err := syncPath(final + ".attrs"); err != nil {
			return err
		}
		for d := filepath.Dir(final); ; d = filepath.Dir(d) {
			if err := syncPath(d); err != nil {
				return err
			}
			if d == f.dir || len(d) <= len(f.dir) {
				return nil
			}
		}
	}
	return before, after
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
