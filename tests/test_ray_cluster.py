"""Ray on loopback and joining a cluster: a local instance listens on 127.0.0.1 only; a
search joins a head started the default way (token authentication on) with --address;
an address nobody answers, a malformed one, a cluster that refuses the client: one line,
exit 2, nothing created."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.ray_cluster import LOCAL_ONLY, ClusterError, parse_address, token_available
from tests.socket_table import LOOPBACK, listening
from tests.test_rediscover import run_cli
from tests.test_search_e2e import query, write_config

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_addresses_parse_or_are_refused():
    assert parse_address("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert parse_address("head.example.org:10001") == ("head.example.org", 10001)
    assert parse_address("auto") is None
    for bad in ("127.0.0.1", "127.0.0.1:", ":6379", "host:port", "host:70000", "host:0"):
        with pytest.raises(ClusterError, match="expected HOST:PORT or auto"):
            parse_address(bad)


def test_a_token_is_found_where_ray_looks(tmp_path):
    assert token_available({"RAY_AUTH_TOKEN": "abc"})
    assert not token_available({"RAY_AUTH_TOKEN": " ", "RAY_AUTH_TOKEN_PATH":
                                str(tmp_path / "none")})
    (tmp_path / "token").write_text("secret\n")
    assert token_available({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "token")})
    (tmp_path / "empty").write_text("")
    assert not token_available({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "empty")})


@pytest.mark.parametrize("address, message", [
    ("127.0.0.1:{closed}", "--address 127.0.0.1:{closed}: no Ray cluster answers there "
                           "(Connection refused); start one with `ray start --head`, or "
                           "check the address"),
    ("head-node", "--address 'head-node': expected HOST:PORT or auto"),
])
def test_an_unreachable_or_malformed_address_is_one_line(tmp_path, address, message):
    closed = free_port()  # nothing listens on it once the probe socket is closed
    address, message = address.format(closed=closed), message.format(closed=closed)
    config = write_config(tmp_path, 10)
    for command in (["run", config, "--out", tmp_path / "run"],
                    ["rediscover", config, "--seeds", 1, "--budget-s", 60, "--out", tmp_path / "exp"]):
        code, stdout, stderr = run_cli(*command, "--address", address, timeout=120)
        assert (code, stderr) == (2, f"lion-search {command[0]}: {message}\n")
        assert "Traceback" not in stderr and stdout == ""
    assert not (tmp_path / "run").exists() and not (tmp_path / "exp").exists()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_a_local_instance_listens_on_loopback_only():
    code = """
import json
from search.ray_cluster import start
from tests.socket_table import listening
start(num_cpus=1)
import ray
node = ray.nodes()[0]
ports = [int(ray.get_runtime_context().gcs_address.rsplit(":", 1)[1]),
         node["NodeManagerPort"], node["ObjectManagerPort"]]
print(json.dumps({"ip": node["NodeManagerAddress"], "ports": ports,
                  "listening": {p: listening(p) for p in ports}}))
ray.shutdown()
"""
    env = {k: v for k, v in os.environ.items() if k != LOCAL_ONLY}  # start() must set it
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ip"] == "127.0.0.1"
    for port, addresses in report["listening"].items():
        assert addresses and set(addresses) <= LOOPBACK, (port, addresses)


def wait_until_answers(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"no Ray head on port {port} after {timeout} s")


@pytest.mark.slow
def test_a_search_joins_a_head_started_the_default_way(tmp_path):
    home, stranger = tmp_path / "home", tmp_path / "stranger"
    home.mkdir(), stranger.mkdir()
    base = {k: v for k, v in os.environ.items()
            if k not in (LOCAL_ONLY, "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH",
                         "RAY_ADDRESS")}
    # A token in ~/.ray/auth_token turns token authentication on for `ray start --head`.
    subprocess.run([BIN / "ray", "get-auth-token", "--generate"], env={**base, "HOME": home},
                   capture_output=True, check=True, timeout=120)
    assert (home / ".ray" / "auth_token").read_text().strip()
    port = free_port()
    head_log = open(tmp_path / "head.log", "w")
    head = subprocess.Popen(
        [BIN / "ray", "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
         "--disable-usage-stats"],
        # This test's head: loopback only. Stopping it below signals its whole process
        # group, the GCS with it, so the drain Ray's head starts on SIGTERM could only
        # wait out its timeout (30 s) for a GCS already gone: no drain.
        env={**base, "HOME": home, LOCAL_ONLY: "0",
             "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"},
        stdout=head_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_answers(port)
        assert set(listening(port)) <= LOOPBACK
        config = write_config(tmp_path, 12, step_size="fixed")  # joining is what counts
        code, stdout, stderr = run_cli("run", config, "--out", tmp_path / "run",
                                           "--address", f"127.0.0.1:{port}",
                                           env={**base, "HOME": home})
        assert code == 0, stderr + stdout
        assert "stopped: program budget spent" in stdout
        assert query(tmp_path / "run", "SELECT COUNT(*) FROM programs")[0][0] == 12

        # Without the cluster's token: refused, in one line, with the hint. (Ray retries
        # the refused connection about once a second, 20 times by default: 3 here.)
        code, stdout, stderr = run_cli("run", config, "--out", tmp_path / "refused",
                                           "--address", f"127.0.0.1:{port}",
                                           env={**base, "HOME": stranger,
                                                "RAY_gcs_server_port_wait_time_s": "3"},
                                           timeout=300)
        assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
        assert f"--address 127.0.0.1:{port}: cannot join the Ray cluster" in stderr
        assert "~/.ray/auth_token" in stderr
        assert not (tmp_path / "refused").exists()
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head and every process it started
        head.wait(timeout=120)
        head_log.close()
        deadline = time.monotonic() + 60
        while listening(port) and time.monotonic() < deadline:
            time.sleep(0.5)
