#!/usr/bin/env python3
"""A delay line for the shaped-link browser tests: holds every packet routed into a TUN device for a fixed time and
writes it back, so the kernel routes it on to where it was going (policy routing sends packets that come back out of
the device the normal way). This kernel has no netem; this is how a test adds delay to a link.

Usage: delay-line.py DEVICE DELAY_MS [MAX_PACKETS [MAX_BYTES]]
DEVICE must exist (ip tuntap add dev DEVICE mode tun) or is created for as long as this runs. The queue holds at most
MAX_PACKETS packets and MAX_BYTES bytes (defaults 2000 and 2 MB); a packet beyond either is dropped and counted.
Prints "ready" once attached, and its counters when stopped (SIGTERM or SIGINT). Standard library only.
"""
import collections
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65535


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: delay-line.py DEVICE DELAY_MS [MAX_PACKETS [MAX_BYTES]]")
    device = argv[1]
    delay = float(argv[2]) / 1000.0
    max_packets = int(argv[3]) if len(argv) > 3 else 2000
    max_bytes = int(argv[4]) if len(argv) > 4 else 2_000_000
    if len(device.encode()) > 15 or not 0 <= delay <= 10 or max_packets < 1 or max_bytes < MAX_PACKET:
        sys.exit("delay-line: a device name of at most 15 bytes, 0-10000 ms, at least one packet and 64 KiB of queue")

    tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))

    queue = collections.deque()  # (due, packet), due in time.monotonic() seconds, in arrival order
    queued_bytes = 0
    counts = {"received": 0, "forwarded": 0, "dropped_full": 0, "write_errors": 0}
    running = True

    def stop(_signum, _frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    while running:
        # Never blocks long: a stop signal only sets a flag (select resumes after a handler that does not raise).
        timeout = 0.1 if not queue else min(0.1, max(0.0, queue[0][0] - time.monotonic()))
        try:
            readable, _, _ = select.select([tun], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        if readable:
            # Everything waiting now, but at most a queue's worth per round so writing back is never starved.
            for _ in range(max_packets):
                try:
                    packet = os.read(tun, MAX_PACKET)
                except BlockingIOError:
                    break
                counts["received"] += 1
                if len(queue) >= max_packets or queued_bytes + len(packet) > max_bytes:
                    counts["dropped_full"] += 1
                    continue
                queue.append((now + delay, packet))
                queued_bytes += len(packet)
        while queue and queue[0][0] <= now:
            _, packet = queue.popleft()
            queued_bytes -= len(packet)
            try:
                os.write(tun, packet)
                counts["forwarded"] += 1
            except OSError:
                counts["write_errors"] += 1

    os.close(tun)
    print(" ".join(f"{key}={value}" for key, value in counts.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv)
