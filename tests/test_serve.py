"""`actiondir serve`: what granian is told, checked against the real server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import free_port
from serving import start_server, stop_server, wait_up

from api.cli import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(seed_db: Path) -> Iterator[str]:
    port = free_port()
    process = start_server(seed_db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        yield base
    finally:
        stop_server(process)


def _refused_or_431(base: str, headers: dict[str, str]) -> int | None:
    """The status the server answered, or None when it closed the connection instead."""
    try:
        return httpx.get(f"{base}/v1/countries", headers=headers, timeout=30, trust_env=False).status_code
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        return None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Accept-Language": "en;q=0.5," * 11_000}, id="one-100KB-header"),
        pytest.param({f"X-Filler-{i}": "x" * 2000 for i in range(50)}, id="fifty-2KB-headers"),
    ],
)
def test_a_header_block_of_100_kb_is_refused(live, headers):
    status = _refused_or_431(live, headers)
    assert status in (431, None), status
    # …and the server is still there for the next client.
    assert httpx.get(f"{live}/healthz", timeout=30, trust_env=False).status_code == 200


def test_ordinary_headers_of_a_few_kb_are_served(live):
    headers = {"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.8," + "de;q=0.1," * 200, "X-Filler": "x" * 4000}
    assert httpx.get(f"{live}/v1/countries", headers=headers, timeout=30, trust_env=False).status_code == 200


# --- HTTP/2 (prior knowledge, as a proxy speaking h2c would): the same bound ---------------------


def _h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _hpack_length(value: int) -> bytes:
    """An HPACK integer with a 7-bit prefix (RFC 7541 §5.1), no Huffman flag."""
    if value < 127:
        return bytes([value])
    out, value = [127], value - 127
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    return bytes([*out, value])


def h2_get(port: int, path: str, headers: dict[str, str]) -> tuple[bool, list[int]]:
    """GET over HTTP/2 on a raw socket: (whether a response body came back, frame types seen).

    Header fields go as HPACK literals without indexing, split over CONTINUATION frames."""
    fields = [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"), *headers.items()]
    block = b"".join(
        b"\x00" + _hpack_length(len(n)) + n.encode() + _hpack_length(len(v)) + v.encode() for n, v in fields
    )
    chunks = [block[i : i + 16384] for i in range(0, len(block), 16384)]
    frames = [
        _h2_frame(1 if i == 0 else 9, (0x1 if i == 0 else 0) | (0x4 if i == len(chunks) - 1 else 0), 1, chunk)
        for i, chunk in enumerate(chunks)
    ]
    seen: list[int] = []
    body = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _h2_frame(4, 0, 0, b""))
        try:
            sock.sendall(b"".join(frames))
        except OSError:  # the server may close before reading it all
            return False, seen
        buffer = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                buffer += data
                while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
                    length = int.from_bytes(buffer[:3], "big")
                    kind, flags, payload = buffer[3], buffer[4], buffer[9 : 9 + length]
                    buffer = buffer[9 + length :]
                    seen.append(kind)
                    if kind == 4 and not flags & 0x1:  # the server's SETTINGS: acknowledge
                        sock.sendall(_h2_frame(4, 0x1, 0, b""))
                    if kind == 0:
                        body += payload
                    if (kind == 0 and flags & 0x1) or kind in (3, 7):  # end of stream, RST_STREAM, GOAWAY
                        return bool(body), seen
        except OSError:
            pass
    return bool(body), seen


def test_http2_serves_ordinary_headers(live):
    port = int(live.rsplit(":", 1)[1])
    answered, seen = h2_get(port, "/healthz", {"accept-language": "pt-BR,en;q=0.8", "x-filler": "x" * 4000})
    assert answered, seen


def test_http2_refuses_a_header_block_of_100_kb(live):
    port = int(live.rsplit(":", 1)[1])
    answered, seen = h2_get(port, "/healthz", {"x-filler": "x" * 100_000})
    assert not answered, seen
    assert httpx.get(f"{live}/healthz", timeout=30, trust_env=False).status_code == 200


# --- where it listens ----------------------------------------------------------------------------


def test_serve_resolves_a_host_name(seed_db: Path):
    """`--host localhost` is a name, not an address: serve binds what it resolves to."""
    port = free_port()
    process = start_server(seed_db, port, host="localhost")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)}
        bases = [f"http://[{a}]:{port}" if ":" in a else f"http://{a}:{port}" for a in sorted(addresses)]
        deadline = time.monotonic() + 60
        while not any(_answers(base) for base in bases):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server(process)
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"serve --host localhost did not serve:\n{output}")
            time.sleep(0.1)
    finally:
        stop_server(process)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_refuses_a_host_that_does_not_resolve(deployment):
    result = CliRunner().invoke(cli, ["serve", "--db", str(deployment.db), "--host", "no-such-host.invalid", "--port", "8000"])
    assert result.exit_code == 1
    assert "no-such-host.invalid" in result.output
    assert "Traceback" not in result.output


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_taken_ipv6_port_is_named_in_brackets(deployment):
    with socket.socket(socket.AF_INET6) as other:
        other.bind(("::1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(deployment.db), "--host", "::1", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on [::1]:{port}" in result.output


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_serve_listens_on_an_ipv6_address(seed_db: Path):
    port = free_port()
    process = start_server(seed_db, port, host="::1")
    try:
        wait_up(f"http://[::1]:{port}", process)
    finally:
        stop_server(process)


def test_a_taken_port_is_named_as_given_and_as_resolved(deployment):
    address = socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    with socket.socket(address[0], socket.SOCK_STREAM) as other:
        other.bind((address[4][0], 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(deployment.db), "--host", "localhost", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on localhost:{port} ({address[4][0]})" in result.output, result.output


@pytest.mark.parametrize(
    "target", ["/v1/countries/RU%0A", "/v1/countries/XX?lang=en%0A", "/v1/nothing%0D%0Ahere?x=%00", "/v1/submissions/%D9%A1"]
)
def test_a_problem_names_the_request_as_granian_received_it(live, target):
    """granian's raw_path (not the test client's): the instance is the target as sent."""
    response = httpx.get(f"{live}{target}", timeout=30, trust_env=False)
    assert response.status_code in (400, 404)
    assert response.json()["instance"] == target
