"""Which addresses listen on a port, from Linux's socket table (no dependencies: the
loopback test runs it in a fresh interpreter)."""

from pathlib import Path

# 127.0.0.1 in /proc/net/tcp, as an IPv4-mapped address and as ::1 in /proc/net/tcp6
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def listening(port: int) -> list[str]:
    """Local addresses (hex, as the table writes them) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found
