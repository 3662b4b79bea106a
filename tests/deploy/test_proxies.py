"""deploy/Caddyfile and deploy/nginx.conf: valid for Debian's caddy and nginx, and in front of
a loopback upstream they keep what HTTP signatures cover (Host, the raw path) and say who
the client was (X-Forwarded-For)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.webapp.render import MAX_FORM_BYTES
from tests.deploy.tools import DEPLOY, run, tool

CADDYFILE = DEPLOY / "Caddyfile"
NGINX_CONF = DEPLOY / "nginx.conf"
DOMAIN = "town.example"
#: What a signed request's (request-target) looks like, with an encoded slash and a query.
SIGNED_PATH = "/users/bakery/inbox/a%2Fb?page=1&q=caf%C3%A9"
MiB = 1024 * 1024


class Upstream:
    """fedi-town's place on 127.0.0.1: answers what it saw, and counts /media/ fetches."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                upstream.seen.append({"path": self.path, "headers": dict(self.headers)})
                body = json.dumps(upstream.seen[-1]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if self.path.startswith("/media/"):
                    self.send_header("Cache-Control", "public, max-age=31536000, immutable")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fetches(self, path: str) -> int:
        return sum(1 for s in self.seen if s["path"] == path)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the proxy stopped: {process.communicate()[1][-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def self_signed(into: Path) -> tuple[Path, Path]:
    """A certificate for DOMAIN and its key, standing in for certbot's."""
    cert, key = into / "fullchain.pem", into / "privkey.pem"
    made = run(
        tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", f"/CN={DOMAIN}", "-keyout", key, "-out", cert,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return cert, key


def nginx_site(into: Path, *, https: int = 443, http: int = 80, upstream: int = 8000) -> Path:
    """deploy/nginx.conf with certbot's files, the cache and the ports moved into ``into``."""
    cert, key = self_signed(into)
    text = NGINX_CONF.read_text()
    replacements = {
        f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem": str(key),
        "/var/cache/nginx/fedi-town-media": str(into / "media-cache"),
        "/var/www/html": str(into / "www"),
        "listen [::]:80;": "",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "http://127.0.0.1:8000": f"http://127.0.0.1:{upstream}",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    site = into / "site.conf"
    site.write_text(text)
    # nginx.conf's http block on Debian, with everything it writes kept in ``into``
    wrapper = into / "nginx.conf"
    wrapper.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {into}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n"
        f"    client_body_temp_path {into}/body;\n    proxy_temp_path {into}/proxy;\n"
        f"    access_log off;\n    include {site};\n}}\n"
    )
    return wrapper


def test_caddy_validates_the_caddyfile():
    # Given Debian's caddy
    caddy = tool("caddy")
    # When it validates deploy/Caddyfile
    result = run(caddy, "validate", "--config", CADDYFILE, "--adapter", "caddyfile")
    # Then the configuration is valid
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Valid configuration" in result.stdout + result.stderr


def test_nginx_accepts_the_site_inside_debians_http_block(tmp_path):
    # Given Debian's nginx and our site with a self-signed certificate in certbot's place
    nginx = tool("nginx")
    wrapper = nginx_site(tmp_path)
    # When nginx tests the configuration
    result = run(nginx, "-t", "-p", tmp_path, "-c", wrapper, "-e", "stderr")
    # Then it is accepted
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_both_proxies_take_the_largest_body_the_app_takes_and_not_much_more():
    # Given the body limit of each proxy, in bytes
    caddy = re.search(r"max_size (\d+)MiB", CADDYFILE.read_text())
    nginx = re.search(r"client_max_body_size (\d+)m;", NGINX_CONF.read_text())
    assert caddy is not None and nginx is not None
    limits = [int(caddy.group(1)) * MiB, int(nginx.group(1)) * MiB]
    # Then each lets the compose form with its photos through to the app, which answers a
    # form just over its own limit with a sentence, not the proxy's bare 413
    for limit in limits:
        assert MAX_FORM_BYTES <= limit <= MAX_FORM_BYTES + 2 * MiB


def test_nginx_keeps_host_and_the_raw_path_and_passes_the_client_address(tmp_path, upstream):
    # Given nginx running our site in front of the upstream
    nginx = tool("nginx")
    https, http = free_port(), free_port()
    wrapper = nginx_site(tmp_path, https=https, http=http, upstream=upstream.port)
    process = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(wrapper), "-e", "stderr", "-g", "daemon off;"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(https, process)
        # When a signed-looking request comes over https for the domain
        with httpx.Client(verify=False) as client:  # the self-signed certificate
            answer = client.get(f"https://127.0.0.1:{https}{SIGNED_PATH}", headers={"Host": DOMAIN})
            # And plain http asks for the same
            redirect = client.get(f"http://127.0.0.1:{http}{SIGNED_PATH}", headers={"Host": DOMAIN})
    finally:
        stop(process)
    # Then the app sees the Host and the path exactly as signed, and who asked
    seen = answer.json()
    assert seen["path"] == SIGNED_PATH
    assert seen["headers"]["Host"] == DOMAIN
    assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert seen["headers"]["X-Forwarded-Proto"] == "https"
    # And http is sent to https with the path kept
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == f"https://{DOMAIN}{SIGNED_PATH}"


def test_nginx_answers_a_repeated_media_fetch_from_its_own_copy(tmp_path, upstream):
    # Given nginx running our site in front of the upstream
    nginx = tool("nginx")
    https = free_port()
    wrapper = nginx_site(tmp_path, https=https, http=free_port(), upstream=upstream.port)
    process = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(wrapper), "-e", "stderr", "-g", "daemon off;"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(https, process)
        # When the same photo is fetched twice
        with httpx.Client(verify=False, base_url=f"https://127.0.0.1:{https}") as client:
            first = client.get("/media/ab/photo.jpg", headers={"Host": DOMAIN})
            second = client.get("/media/ab/photo.jpg", headers={"Host": DOMAIN})
    finally:
        stop(process)
    # Then the app was asked once, and the browser still gets the app's Cache-Control
    assert (first.headers["X-Cache-Status"], second.headers["X-Cache-Status"]) == ("MISS", "HIT")
    assert upstream.fetches("/media/ab/photo.jpg") == 1
    assert second.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_caddy_keeps_host_and_the_raw_path_and_passes_the_client_address(tmp_path, upstream):
    # Given caddy running our Caddyfile in front of the upstream, on plain http on a free port
    # (the site block is ours; only its address, the admin socket and the upstream move)
    caddy = tool("caddy")
    port = free_port()
    text = CADDYFILE.read_text()
    for old in (f"\n{DOMAIN} {{", "\n{\n", "127.0.0.1:8000"):
        assert old in text, f"deploy/Caddyfile no longer has {old!r}"
    text = (
        text.replace(f"\n{DOMAIN} {{", f"\nhttp://{DOMAIN}:{port} {{")
        .replace("\n{\n", "\n{\n\tadmin off\n", 1)
        .replace("127.0.0.1:8000", f"127.0.0.1:{upstream.port}")
    )
    config = tmp_path / "Caddyfile"
    config.write_text(text)
    environment = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        wait_for_port(port, process)
        # When a signed-looking request comes for the domain
        answer = httpx.get(f"http://127.0.0.1:{port}{SIGNED_PATH}", headers={"Host": DOMAIN})
    finally:
        stop(process)
    # Then the app sees the Host and the path exactly as signed, and who asked
    seen = answer.json()
    assert seen["path"] == SIGNED_PATH
    assert seen["headers"]["Host"] == DOMAIN
    assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"
