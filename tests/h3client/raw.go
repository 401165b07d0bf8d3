// Raw mode (-raw CASE): HTTP/3 frames and QPACK bytes written by hand on quic-go streams, to
// send what no well-behaved client sends (RFC 9114 §4.1.2 malformed messages, frames out of
// order, QPACK encoder-stream and blocked-stream abuse, RFC 9204) and report how the server
// answered: {case, status, stream_error, conn_error, error}. A code is -1 when it did not happen.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/marten-seemann/qpack"
)

type rawResult struct {
	Case        string `json:"case"`
	Status      int    `json:"status"`
	StreamError int64  `json:"stream_error"`
	ConnError   int64  `json:"conn_error"`
	Error       string `json:"error,omitempty"`
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24),
		byte(v>>16), byte(v>>8), byte(v))
}

// frame: an HTTP/3 frame (RFC 9114 §7.1).
func frame(kind uint64, payload []byte) []byte {
	b := appendVarint(nil, kind)
	b = appendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// fieldSection: a QPACK field section with no dynamic table reference (literals and static
// indexes), names written as given (uppercase included).
func fieldSection(fields [][2]string) []byte {
	var buf bytes.Buffer
	enc := qpack.NewEncoder(&buf)
	for _, f := range fields {
		enc.WriteField(qpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return buf.Bytes()
}

// qpackInt: a QPACK/HPACK prefixed integer (RFC 7541 §5.1) with the first byte's flag bits.
func qpackInt(flags byte, prefix uint, v uint64) []byte {
	max := uint64(1)<<prefix - 1
	if v < max {
		return []byte{flags | byte(v)}
	}
	b := []byte{flags | byte(max)}
	v -= max
	for v >= 128 {
		b = append(b, byte(v%128)|0x80)
		v /= 128
	}
	return append(b, byte(v))
}

type rawCase struct {
	request []byte // the request stream's bytes
	fin     bool   // end the request stream after them
	encoder []byte // QPACK encoder stream instructions (after its stream type), if any
	streams int    // open this many request streams alike (blocked-stream abuse)
}

func rawCases(authority string) map[string]rawCase {
	base := func(extra ...[2]string) [][2]string {
		f := [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", authority},
			{":path", "/raw"}}
		return append(f, extra...)
	}
	headers := func(fields [][2]string) []byte { return frame(0x01, fieldSection(fields)) }
	get := func(fields [][2]string) rawCase { return rawCase{request: headers(fields), fin: true} }
	// A field section that needs dynamic table entry 0 (Required Insert Count 1, encoded as 2
	// for a 4096-byte table, RFC 9204 §4.5.1.1), which never gets inserted.
	blocked := frame(0x01, []byte{0x02, 0x00, 0x80})
	big := append(qpackInt(0x40, 5, 1), 'x')
	big = append(big, qpackInt(0x00, 7, 5000)...)
	big = append(big, bytes.Repeat([]byte{'v'}, 5000)...)
	return map[string]rawCase{
		"ok":                  get(base()),
		"te-trailers":         get(base([2]string{"te", "trailers"})),
		"missing-method":      get(base()[1:]),
		"missing-path":        get(base()[:3]),
		"duplicate-path":      get(base([2]string{":path", "/again"})),
		"unknown-pseudo":      get(base([2]string{":foo", "bar"})),
		"pseudo-after-field":  get(append(base()[:3], [2]string{"x-a", "1"}, [2]string{":path", "/raw"})),
		"uppercase-name":      get(base([2]string{"X-Upper", "1"})),
		"connection":          get(base([2]string{"connection", "close"})),
		"keep-alive":          get(base([2]string{"keep-alive", "timeout=5"})),
		"transfer-encoding":   get(base([2]string{"transfer-encoding", "chunked"})),
		"upgrade":             get(base([2]string{"upgrade", "websocket"})),
		"te-gzip":             get(base([2]string{"te", "gzip"})),
		"data-before-headers": {request: append(frame(0x00, []byte("body")), headers(base())...), fin: true},
		// Insert With Name Reference to dynamic entry 5 of an empty table (RFC 9204 §4.3.2).
		"qpack-bad-reference": {request: headers(base()), encoder: append(qpackInt(0x20, 5, 4096), 0x85, 0x01, 'a')},
		// Set Dynamic Table Capacity above the 4096 bytes the server allows (§4.3.1).
		"qpack-capacity-over": {request: headers(base()), encoder: qpackInt(0x20, 5, 1<<20)},
		// Insert With Literal Name of a 5001-byte entry into a 4096-byte table (§3.2.2).
		"qpack-insert-too-large": {request: headers(base()), encoder: append(qpackInt(0x20, 5, 4096), big...)},
		// A field section that waits for an insert that never comes (§2.1.2).
		"qpack-blocked":      {request: blocked, streams: 1},
		"qpack-blocked-many": {request: blocked, streams: 17},
	}
}

// errorCodes: what err says of the stream and the connection.
func errorCodes(err error, out *rawResult) {
	var se *quic.StreamError
	var ae *quic.ApplicationError
	if errors.As(err, &se) {
		out.StreamError = int64(se.ErrorCode)
	} else if errors.As(err, &ae) {
		out.ConnError = int64(ae.ErrorCode)
	} else if err != nil && out.Error == "" {
		out.Error = err.Error()
	}
}

func runRaw(addr, authority, name string, timeout time.Duration) rawResult {
	out := rawResult{Case: name, StreamError: -1, ConnError: -1}
	c, ok := rawCases(authority)[name]
	if !ok {
		out.Error = "unknown case"
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := quic.DialAddrContext(ctx, addr,
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h3"}, ServerName: strings.Split(authority, ":")[0]},
		&quic.Config{MaxIdleTimeout: timeout, HandshakeIdleTimeout: 10 * time.Second})
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer conn.CloseWithError(0, "")
	control, err := conn.OpenUniStream()
	if err != nil {
		out.Error = err.Error()
		return out
	}
	control.Write(append([]byte{0x00}, frame(0x04, nil)...)) // control stream: empty SETTINGS
	if c.encoder != nil {
		encoder, err := conn.OpenUniStream()
		if err != nil {
			out.Error = err.Error()
			return out
		}
		encoder.Write(append([]byte{0x02}, c.encoder...))
	}
	n := c.streams
	if n == 0 {
		n = 1
	}
	var last quic.Stream
	for i := 0; i < n; i++ {
		s, err := conn.OpenStreamSync(ctx)
		if err != nil {
			errorCodes(err, &out)
			return out
		}
		s.Write(c.request)
		if c.fin {
			s.Close()
		}
		last = s
	}
	deadline, _ := ctx.Deadline()
	last.SetReadDeadline(deadline)
	got, err := io.ReadAll(last)
	errorCodes(err, &out)
	if len(got) > 0 {
		out.Status = responseStatus(got)
	}
	return out
}

// responseStatus: :status of the first HEADERS frame in a response stream's bytes, or 0.
func responseStatus(b []byte) int {
	r := bytes.NewReader(b)
	for r.Len() > 0 {
		kind, err1 := readVarint(r)
		size, err2 := readVarint(r)
		if err1 != nil || err2 != nil || size > uint64(r.Len()) {
			return 0
		}
		payload := make([]byte, size)
		r.Read(payload)
		if kind != 0x01 {
			continue
		}
		fields, err := qpack.NewDecoder(nil).DecodeFull(payload)
		if err != nil {
			return 0
		}
		for _, f := range fields {
			if f.Name == ":status" {
				var status int
				fmt.Sscan(f.Value, &status)
				if status >= 200 {
					return status
				}
			}
		}
	}
	return 0
}

func readVarint(r *bytes.Reader) (uint64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	v := uint64(first & 0x3f)
	for i := 1; i < 1<<(first>>6); i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v = v<<8 | uint64(b)
	}
	return v, nil
}
