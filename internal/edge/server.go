package edge

import (
	"log/slog"
	"net/http"
	"time"
)

// Server limits, as API Gateway has them where it has them: headers at most 10 KiB (API
// Gateway's limit for the request line and headers together; net/http adds 4 KiB of slack).
const (
	MaxHeaderBytes    = 10 << 10
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds the whole request, body included: a 10 MB upload has a minute.
	ReadTimeout = 60 * time.Second
	// WriteTimeout bounds a response, beyond the 29 s integration timeout.
	WriteTimeout = 60 * time.Second
	IdleTimeout  = 60 * time.Second
)

// NewServer returns the edge's http.Server: HTTP/1.1 and unencrypted HTTP/2 (h2c, prior
// knowledge or upgrade-free), with header size, read-header, read, write and idle limits so
// that slow or oversized clients cannot pin connections or memory.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.Default()
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:         250,
			MaxDecoderHeaderTableSize:    4 << 10,
			MaxEncoderHeaderTableSize:    4 << 10,
			MaxReadFrameSize:             1 << 20,
			PermitProhibitedCipherSuites: false,
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
