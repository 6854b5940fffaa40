"""Start a Ray instance on loopback, or join a cluster: the one place that calls ``ray.init``.

A local run (no address) starts a Ray instance whose every port listens on 127.0.0.1
only: a laptop search exposes nothing on the network. Ray's own switch for that is its
local-only mode (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when ``ray`` is imported),
which :func:`start` sets (and, when Ray was imported before, sets on Ray's constant).

Joining a cluster (``--address HOST:PORT`` or ``auto``) works against one started the
default way: Ray 2.59+ turns token authentication on for ``ray start --head``, and a
client presents its token only in token mode, so when ``RAY_AUTH_MODE`` is unset and a
token is on this machine (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or
``~/.ray/auth_token``) the client turns token mode on. A cluster on this machine's
loopback that listens there only (started local-only, as the tests do) is joined in
local-only mode too. An address that nothing answers is refused at once, in one line,
before Ray spends minutes retrying.

Example:
    >>> parse_address("10.0.0.5:6379"), parse_address("auto"), parse_address("[::1]:6379")
    (('10.0.0.5', 6379), None, ('::1', 6379))
    >>> parse_address("head-node")
    Traceback (most recent call last):
    ...
    search.ray_cluster.ClusterError: --address 'head-node': expected HOST:PORT or auto
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
from pathlib import Path

LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": every Ray port on 127.0.0.1
AUTH_MODE = "RAY_AUTH_MODE"
REACH_TIMEOUT_S = 5.0


class ClusterError(ConnectionError):
    """No cluster at the address, or it refused this client (one line for the user)."""


def parse_address(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``HOST:PORT``; None for ``auto``, which Ray resolves itself."""
    if address == "auto":
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"--address {address!r}: expected HOST:PORT or auto")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    """``127.x.x.x``, ``::1`` or ``localhost``."""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def token_available(environ=os.environ) -> bool:
    """Whether this machine holds a Ray auth token (where Ray itself looks for one)."""
    if environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    path = environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token"
    try:
        return bool(Path(path).read_text().strip())
    except OSError:
        return False


def _answers(host: str, port: int) -> str | None:
    """None when something listens at ``host:port``, else why not."""
    try:
        with socket.create_connection((host, port), timeout=REACH_TIMEOUT_S):
            return None
    except OSError as err:
        return err.strerror or type(err).__name__


def _outside_address() -> str | None:
    """This machine's address as others see it (no packet is sent), None if unknown."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("203.0.113.1", 9))  # TEST-NET-3: only picks the route
            return probe.getsockname()[0]
    except OSError:
        return None


def _listens_on_loopback_only(port: int) -> bool:
    outside = _outside_address()
    return outside is not None and not is_loopback(outside) and \
        _answers(outside, port) is not None


def _local_only() -> None:
    os.environ[LOCAL_ONLY] = "0"  # for Ray's processes, and a Ray imported from now on
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:  # imported before: it read the variable already
        constants.ENABLE_RAY_CLUSTER = False


class _Held:
    keep = False


@contextlib.contextmanager
def _stderr_held():
    """Hold what is written to file descriptor 2 meanwhile; pass it on if ``keep`` is set."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held_file:
        os.dup2(held_file.fileno(), 2)
        held = _Held()
        try:
            yield held
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if held.keep:
                held_file.seek(0)
                sys.stderr.write(held_file.read().decode(errors="replace"))


def start(address: str | None = None, dashboard: bool = False,
          num_cpus: int | None = None) -> None:
    """Join the cluster at ``address``, or start a loopback-only local instance (None).

    Raises :class:`ClusterError` (one line, with a hint) when it cannot connect.
    """
    options = dict(include_dashboard=dashboard, log_to_driver=False,
                   logging_level="ERROR", configure_logging=True)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if address is None:
        _local_only()
        import ray

        ray.init(address="local", num_cpus=num_cpus, **options)
        return
    target = parse_address(address)
    if target is not None:
        why = _answers(*target)
        if why is not None:
            raise ClusterError(f"--address {address}: no Ray cluster answers there ({why}); "
                               "start one with `ray start --head`, or check the address")
        if is_loopback(target[0]) and _listens_on_loopback_only(target[1]):
            _local_only()
    if AUTH_MODE not in os.environ and token_available():
        os.environ[AUTH_MODE] = "token"
    import ray

    try:
        with _stderr_held() as held:  # Ray's C++ client logs each failed retry there
            ray.init(address=address, **options)
            held.keep = True
    except (ConnectionError, RuntimeError) as err:
        hint = ("no running cluster found on this machine; start one with "
                "`ray start --head`" if target is None else
                "it refused this client: if the cluster uses token authentication, put "
                "its token in ~/.ray/auth_token or RAY_AUTH_TOKEN (`ray get-auth-token` on "
                "the head prints it)")
        raise ClusterError(f"--address {address}: cannot join the Ray cluster: {hint} "
                           f"({str(err).splitlines()[0] if str(err) else type(err).__name__})"
                           ) from None
