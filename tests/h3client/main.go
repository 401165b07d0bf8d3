// h3client: the HTTP/3 client of the integration tests and the HTTP/3 benchmark, on quic-go's
// http3.RoundTripper (Debian's golang-github-lucas-clemente-quic-go-dev; builds offline with
// GOPATH=/usr/share/gocode GO111MODULE=off go build).
//
// One request: prints one JSON object {status, headers, body (when -show-body), body_len,
// body_sha256, sent_sha256, error}. Load mode (-n N > 1): N requests over -c streams of one
// connection; prints {requests, statuses, errors, seconds}. Exit status 0 unless the client
// itself failed (a 4xx/5xx answer is a result, not a failure). Raw mode (-raw CASE): raw.go.
// Idle mode (-idle N): idle.go.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// patternBody streams n bytes of a deterministic pattern and hashes them as they go out.
type patternBody struct {
	left int64
	pos  int64
	hash io.Writer
	pat  []byte
}

func (p *patternBody) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(b))
	if n > p.left {
		n = p.left
	}
	for i := int64(0); i < n; i++ {
		b[i] = p.pat[(p.pos+i)%int64(len(p.pat))]
	}
	p.pos += n
	p.left -= n
	p.hash.Write(b[:n])
	return int(n), nil
}

type result struct {
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Trailers   map[string][]string `json:"trailers,omitempty"`
	Body       string              `json:"body,omitempty"`
	BodyLen    int64               `json:"body_len"`
	BodySha256 string              `json:"body_sha256"`
	SentSha256 string              `json:"sent_sha256,omitempty"`
	Proto      string              `json:"proto"`
	PeerCN     string              `json:"peer_cn,omitempty"`
	Error      string              `json:"error,omitempty"`
}

func main() {
	method := flag.String("X", "GET", "method")
	bodySize := flag.Int64("body-size", -1, "send this many pattern bytes as the body")
	data := flag.String("d", "", "send this string as the body")
	showBody := flag.Bool("show-body", false, "include the response body (text) in the output")
	n := flag.Int("n", 1, "requests (load mode when > 1)")
	c := flag.Int("c", 1, "concurrent streams in load mode")
	timeout := flag.Duration("timeout", 60*time.Second, "whole run")
	raw := flag.String("raw", "", "send this hand-written malformed exchange (raw.go) instead")
	sni := flag.String("sni", "", "TLS server name to send (default: the URL's host)")
	idle := flag.Int("idle", 0, "hold this many idle connections (idle.go)")
	var headers headerFlags
	flag.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: h3client [flags] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	if *idle > 0 {
		runIdle(url, *idle, *timeout, *sni)
		return
	}
	if *raw != "" {
		authority := strings.SplitN(strings.TrimPrefix(url, "https://"), "/", 2)[0]
		json.NewEncoder(os.Stdout).Encode(runRaw(authority, authority, *raw, *timeout))
		return
	}
	rt := &http3.RoundTripper{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: *sni},
		QuicConfig:      &quic.Config{MaxIdleTimeout: 30 * time.Second, HandshakeIdleTimeout: 10 * time.Second},
	}
	defer rt.Close()
	client := &http.Client{Transport: rt, Timeout: *timeout}
	pat := make([]byte, 65521)
	rand.New(rand.NewSource(20240601)).Read(pat)

	do := func(out *result) {
		var body io.Reader
		sent := sha256.New()
		if *bodySize >= 0 {
			body = &patternBody{left: *bodySize, hash: sent, pat: pat}
		} else if *data != "" {
			body = io.TeeReader(bytes.NewReader([]byte(*data)), sent)
		}
		req, err := http.NewRequest(*method, url, body)
		if err != nil {
			out.Error = err.Error()
			return
		}
		if *bodySize >= 0 {
			req.ContentLength = *bodySize
		}
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ":")
			req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		resp, err := client.Do(req)
		if err != nil {
			out.Error = err.Error()
			return
		}
		defer resp.Body.Close()
		got := sha256.New()
		var keep bytes.Buffer
		var w io.Writer = got
		if *showBody {
			w = io.MultiWriter(got, &keep)
		}
		out.BodyLen, err = io.Copy(w, resp.Body)
		if err != nil {
			out.Error = err.Error()
		}
		out.Status = resp.StatusCode
		out.Proto = resp.Proto
		if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
			out.PeerCN = resp.TLS.PeerCertificates[0].Subject.CommonName
		}
		out.Headers = resp.Header
		out.Trailers = resp.Trailer
		out.Body = keep.String()
		out.BodySha256 = hex.EncodeToString(got.Sum(nil))
		if body != nil {
			out.SentSha256 = hex.EncodeToString(sent.Sum(nil))
		}
	}

	enc := json.NewEncoder(os.Stdout)
	if *n <= 1 {
		var out result
		do(&out)
		enc.Encode(out)
		if out.Error != "" && out.Status == 0 {
			os.Exit(1)
		}
		return
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var errors []string
	var next int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < *c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(*n) {
				var out result
				do(&out)
				mu.Lock()
				if out.Error != "" {
					errors = append(errors, out.Error)
				} else {
					statuses[out.Status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errors) > 5 {
		errors = errors[:5]
	}
	enc.Encode(map[string]any{"requests": *n, "statuses": statuses, "errors": errors,
		"seconds": time.Since(start).Seconds()})
}
