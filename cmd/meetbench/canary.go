package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// canary measures how long this machine, as loaded by the room, takes to let another process
// wake up, read one UDP datagram and send it back: the floor under any server's added latency
// here, since the SFU needs such a wake-up (several, in Pion's goroutines) for every packet.
//
// A child process of this tool (the same binary, -echo) echoes every datagram it gets on
// 127.0.0.1. The tool sends it its clock every canaryEvery and takes the kernel's receive time of
// the echo (SO_TIMESTAMPNS), so neither the tool's own scheduling before the write returns nor
// after the echo arrives counts.
type canary struct {
	cmd  *exec.Cmd
	sock *net.UDPConn
	dst  *net.UDPAddr
	hist histogram
	stop chan struct{}
	wg   sync.WaitGroup
}

const canaryEvery = 2 * time.Millisecond

// startCanary starts the echo process and the probes; their latency counts inside w.
func (b *bench) startCanary(w *window) (*canary, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("canary: %w", err)
	}
	cmd := exec.Command(self, "-echo")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("canary: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("canary: %w", err)
	}
	c := &canary{cmd: cmd, stop: make(chan struct{})}
	line, err := bufio.NewReader(out).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		c.close()
		return nil, fmt.Errorf("canary: no port from the echo process (%q)", line)
	}
	c.dst = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("canary: %w", err)
	}
	c.sock = sock
	sc, err := newStampConn(sock, b.start.UnixNano())
	if err != nil {
		c.close()
		return nil, fmt.Errorf("canary: %w", err)
	}
	c.wg.Add(2)
	go c.send(b)
	go c.receive(sc, w)
	return c, nil
}

func (c *canary) send(b *bench) {
	defer c.wg.Done()
	t := time.NewTicker(canaryEvery)
	defer t.Stop()
	var buf [8]byte
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		binary.BigEndian.PutUint64(buf[:], uint64(b.now()))
		_, _ = c.sock.WriteToUDP(buf[:], c.dst)
	}
}

func (c *canary) receive(sc *stampConn, w *window) {
	defer c.wg.Done()
	buf := make([]byte, 64)
	for {
		n, oobn, _, _, err := sc.ReadMsgUDP(buf, sc.oob)
		if err != nil {
			return
		}
		at, ok := parseStamp(sc.oob[:oobn])
		if n != 8 || !ok {
			continue
		}
		sent := int64(binary.BigEndian.Uint64(buf[:8]))
		c.hist.add(sent, at-sc.offset-sent, w)
	}
}

func (c *canary) close() {
	close(c.stop)
	if c.sock != nil {
		c.sock.Close()
	}
	c.wg.Wait()
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

// echo is the canary's other end (meetbench -echo): it prints its UDP port on 127.0.0.1, then
// sends back every datagram it gets until its parent kills it.
func echo() error {
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	fmt.Println(sock.LocalAddr().(*net.UDPAddr).Port)
	buf := make([]byte, 64)
	for {
		n, from, err := sock.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		_, _ = sock.WriteToUDPAddrPort(buf[:n], from)
	}
}
