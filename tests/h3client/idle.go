// Idle mode (-idle N): N HTTP/3 connections to one server over one shared UDP socket (quic-go
// multiplexes connections on a shared PacketConn by connection ID, so N costs one descriptor),
// one GET on each, then they are held idle. It speaks the line protocol of
// bench/macro/idle_conns.py on stdout/stdin:
//
//	HELD <connections> <failed first requests>       once all are open and answered
//	verify   -> VERIFIED <connections> <failed second requests>
//	close    -> CLOSED                                 then the process ends
//
// No keep-alive pings: the server's idle timeout must outlast the hold.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

// Handshakes in flight at once (and closes sent at once): more would overrun the receive
// buffers of the shared socket (and of the server's).
const idleDialParallelism = 32

func runIdle(url string, count int, timeout time.Duration, sni string) {
	host := strings.SplitN(strings.TrimPrefix(url, "https://"), "/", 2)[0]
	raddr, err := net.ResolveUDPAddr("udp", host)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pconn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pconn.SetReadBuffer(4 << 20)
	dial := func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (quic.EarlyConnection, error) {
		return quic.DialEarlyContext(ctx, pconn, raddr, tlsCfg.ServerName, tlsCfg, cfg)
	}
	serverName := sni
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(host)
	}
	trips := make([]*http3.RoundTripper, count)
	clients := make([]*http.Client, count)
	for i := range trips {
		trips[i] = &http3.RoundTripper{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: serverName},
			QuicConfig: &quic.Config{MaxIdleTimeout: time.Hour, HandshakeIdleTimeout: 10 * time.Second,
				KeepAlivePeriod: 0},
			Dial: dial,
		}
		clients[i] = &http.Client{Transport: trips[i], Timeout: timeout}
	}
	// One GET on each connection (the first one opens it); returns how many failed.
	round := func() int {
		var failed int64
		var next int64 = -1
		var wg sync.WaitGroup
		for w := 0; w < idleDialParallelism; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := atomic.AddInt64(&next, 1)
					if i >= int64(count) {
						return
					}
					resp, err := clients[i].Get(url)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != 200 {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					if err != nil {
						if atomic.AddInt64(&failed, 1) <= 3 {
							fmt.Fprintf(os.Stderr, "connection %d: %v\n", i, err)
						}
					}
				}
			}()
		}
		wg.Wait()
		return int(failed)
	}
	fmt.Printf("HELD %d %d\n", count, round())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "verify":
			fmt.Printf("VERIFIED %d %d\n", count, round())
		case "close":
			closeAll(trips)
			fmt.Println("CLOSED")
			return
		default:
			fmt.Println("ERROR unknown command")
		}
	}
	closeAll(trips)
}

// closeAll closes every connection, idleDialParallelism at a time: each close is one
// CONNECTION_CLOSE datagram, and a burst of hundreds overruns the server's receive buffer, which
// then keeps the connections whose close it lost until their idle timeout.
func closeAll(trips []*http3.RoundTripper) {
	for i, t := range trips {
		t.Close()
		if (i+1)%idleDialParallelism == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}
