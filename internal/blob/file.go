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
	"sync"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

type fileBackend struct {
	dir    string
	signer *URLSigner
	public *url.URL // ends in "/"
	dirs   durableDirs
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

// maxStream: a file has no limit of its own below the disk's.
func (f *fileBackend) maxStream() (int64, string) { return 0, "" }

// prepareWrite makes the write durable, which fileblob alone does not: it renames its temporary
// file into place without fsync. Before Close (the rename) we fsync the temporary file's data
// once — never per write — and put the sidecar with the content type in place, fsynced, so an
// object never appears without it; after Close, the object's directory, and the directories
// above it up to the root that are not yet known durable (durableDirs), so the new names survive
// a crash too. When Close then fails (the context was cancelled in between, or the rename
// failed), the sidecar that was there before is put back, so a failed write leaves an existing
// object's content type as it was.
//
// The sidecar's content is known before the first byte, so it is written to a temporary file
// and fsynced while the data is being copied (a goroutine that mostly waits for the disk): its
// fsync no longer adds to the write's latency, and its rename into place still happens only
// after the data is durable. An object of DefaultContentType gets no sidecar at all: fileblob
// reads a missing one as exactly that type, so the file, its fsync and its rename would store
// nothing (a sidecar an overwritten object had is removed instead, and put back if Close fails).
func (f *fileBackend) prepareWrite(key string, opts *gcblob.WriterOptions) writeHooks {
	// A valid key is its own relative path: fileblob escapes none of its characters.
	final := filepath.Join(f.dir, filepath.FromSlash(key))
	ct, ifNotExist := opts.ContentType, opts.IfNotExist
	needSidecar := ct != DefaultContentType // opts.ContentType is normalized: Put's doing
	var tmp *os.File
	var pending chan tempFile // the sidecar being written; nil until BeforeWrite
	var side tempFile         // its result, once received
	received := false
	sidecarTemp := func() tempFile {
		if pending != nil && !received {
			side, received = <-pending, true
		}
		return side
	}
	opts.BeforeWrite = func(as func(any) bool) error {
		if !as(&tmp) || tmp == nil {
			return errors.New("fileblob did not expose its temporary file")
		}
		if needSidecar {
			// fileblob has created the object's directory by now.
			pending = make(chan tempFile, 1)
			go func() { pending <- writeTemp(final+".attrs", sidecarJSON(ct)) }()
		}
		return nil
	}
	var replaced bool   // the sidecar was put in place
	var previous []byte // the sidecar it replaced; nil if there was none
	before := func() error {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		st := sidecarTemp()
		if st.err != nil {
			return st.err
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
		switch {
		case needSidecar:
			if err := os.Rename(st.name, final+".attrs"); err != nil {
				return fmt.Errorf("sidecar: %w", err)
			}
			side.name = "" // in place: nothing left to remove
		case old != nil:
			// The object being replaced had a type of its own; the new one has the default.
			if err := os.Remove(final + ".attrs"); err != nil {
				return fmt.Errorf("sidecar: %w", err)
			}
		default:
			return nil
		}
		replaced, previous = true, old
		return nil
	}
	after := func() error {
		// The object's own directory holds the two renames; the ones above it matter only
		// when this write created them.
		dir := filepath.Dir(final)
		if err := syncPath(dir); err != nil {
			return err
		}
		return f.dirs.syncAbove(dir, f.dir)
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
	abort := func() {
		if st := sidecarTemp(); st.name != "" {
			_ = os.Remove(st.name)
		}
	}
	return writeHooks{beforeClose: before, afterClose: after, failedClose: failed, aborted: abort}
}

// sidecarJSON is the sidecar of an object of content type ct, in the format fileblob reads.
func sidecarJSON(ct string) []byte {
	b, _ := json.Marshal(sidecar{ContentType: ct}) // strings and a nil map: cannot fail
	return append(b, '\n')
}

// durableDirs remembers the directories whose entry in their parent has been fsynced since they
// were created, so that a write into an existing directory fsyncs that directory only, not every
// one up to the root. Each is remembered with its identity (device and inode): a directory
// removed and created again under the same name is new, and is fsynced again.
type durableDirs struct {
	mu   sync.Mutex
	seen map[string]os.FileInfo
}

// maxDurableDirs bounds the memory durableDirs takes (one entry per owner's directory, ~200
// bytes each); past it, it starts over, which costs a few extra fsyncs.
const maxDurableDirs = 4096

// syncAbove makes the entries of dir and of its ancestors below root durable: for each one not
// known durable, it fsyncs its parent.
func (d *durableDirs) syncAbove(dir, root string) error {
	for ; len(dir) > len(root); dir = filepath.Dir(dir) {
		fi, err := os.Lstat(dir)
		if err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		d.mu.Lock()
		known, ok := d.seen[dir]
		d.mu.Unlock()
		if ok && os.SameFile(known, fi) {
			return nil // so are the ones above it
		}
		if err := syncPath(filepath.Dir(dir)); err != nil {
			return err
		}
		d.mu.Lock()
		if d.seen == nil || len(d.seen) >= maxDurableDirs {
			d.seen = make(map[string]os.FileInfo)
		}
		d.seen[dir] = fi
		d.mu.Unlock()
	}
	return nil
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
// unreadable).
func writeAtomic(name string, data []byte) error {
	tf := writeTemp(name, data)
	if tf.err != nil {
		return tf.err
	}
	if err := os.Rename(tf.name, name); err != nil {
		_ = os.Remove(tf.name)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// tempFile is a file written and fsynced under a temporary name, or the error doing so.
type tempFile struct {
	name string
	err  error
}

// writeTemp writes data, fsynced, to a new temporary file beside name. The ".tmp" suffix keeps a
// file stranded by a crash out of the key space (ValidKey).
func writeTemp(name string, data []byte) tempFile {
	fd, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*.tmp")
	if err != nil {
		return tempFile{err: fmt.Errorf("write %s: %w", name, err)}
	}
	tmp := fd.Name()
	_, err = fd.Write(data)
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return tempFile{err: fmt.Errorf("write %s: %w", name, err)}
	}
	return tempFile{name: tmp}
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
