package edge

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// accessLog writes one JSON line per request with API Gateway's $context field names. Lines
// are built by appending into a reused buffer and written in batches — when the batch passes
// 32 KiB, and at least every flushEvery — so logging costs no syscall per request. Only whole
// lines are ever written.
type accessLog struct {
	w          io.Writer
	flushEvery time.Duration

	mu      sync.Mutex
	buf     []byte
	stop    chan struct{}
	stopped chan struct{}
}

const accessLogBatch = 32 << 10

func newAccessLog(w io.Writer, flushEvery time.Duration) *accessLog {
	l := &accessLog{w: w, flushEvery: flushEvery, buf: make([]byte, 0, 2*accessLogBatch),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if flushEvery > 0 {
		go l.loop()
	} else {
		close(l.stopped)
	}
	return l
}

func (l *accessLog) loop() {
	defer close(l.stopped)
	t := time.NewTicker(l.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush()
			return
		case <-t.C:
			l.flush()
		}
	}
}

// flush writes the pending lines.
func (l *accessLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		_, _ = l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}

// close flushes and stops the flusher.
func (l *accessLog) close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.stopped
	l.flush()
}

// entry is one request's log line.
type entry struct {
	requestID          string
	ip                 string
	start              time.Time
	method             string
	resourcePath       string
	path               string
	protocol           string
	status             int
	responseLength     int64
	latency            time.Duration
	integrationLatency time.Duration // -1 when the request never reached a target
	authorizerError    string
	integrationError   string
	target             string
	wafAction          string
}

// write appends e as a line and writes the batch when it is full or flushing is immediate.
func (l *accessLog) write(e *entry) {
	l.mu.Lock()
	b := l.buf
	b = append(b, `{"requestId":"`...)
	b = appendJSONText(b, e.requestID)
	b = append(b, `","ip":"`...)
	b = appendJSONText(b, e.ip)
	b = append(b, `","requestTime":"`...)
	b = e.start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `","requestTimeEpoch":`...)
	b = strconv.AppendInt(b, e.start.UnixMilli(), 10)
	b = append(b, `,"httpMethod":"`...)
	b = appendJSONText(b, e.method)
	b = append(b, `","resourcePath":"`...)
	b = appendJSONText(b, e.resourcePath)
	b = append(b, `","path":"`...)
	b = appendJSONText(b, e.path)
	b = append(b, `","protocol":"`...)
	b = appendJSONText(b, e.protocol)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"responseLength":`...)
	b = strconv.AppendInt(b, e.responseLength, 10)
	b = append(b, `,"latency":`...)
	b = appendMillis(b, e.latency)
	b = append(b, `,"integrationLatency":`...)
	if e.integrationLatency < 0 {
		b = append(b, `null`...)
	} else {
		b = appendMillis(b, e.integrationLatency)
	}
	b = append(b, `,"authorizerError":"`...)
	b = appendJSONText(b, e.authorizerError)
	b = append(b, `","integrationError":"`...)
	b = appendJSONText(b, e.integrationError)
	b = append(b, `","target":"`...)
	b = appendJSONText(b, e.target)
	if e.wafAction != "" {
		b = append(b, `","wafAction":"`...)
		b = appendJSONText(b, e.wafAction)
	}
	b = append(b, "\"}\n"...)
	l.buf = b
	if len(b) >= accessLogBatch || l.flushEvery <= 0 {
		_, _ = l.w.Write(b)
		l.buf = b[:0]
	}
	l.mu.Unlock()
}

// appendMillis appends d in milliseconds with microsecond precision.
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}
