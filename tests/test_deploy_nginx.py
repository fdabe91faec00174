"""The reverse proxy of deploy/nginx in front of gunicorn (deploy/gunicorn.conf.py), as in
production but on free local ports: nginx's own refusals (an overlong URL or header, a body too
large, a malformed request) come in the CONTRACT's error shape on the JSON paths; no Server
header tells a version; the client's address the audit log records is the proxy's view of it.

Skipped where nginx is not installed (Debian: `apt-get install nginx`); the checks that need no
nginx run everywhere.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import gunicorn
import pytest
from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.errors import JSON_PATH_PREFIXES
from corrections.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SNIPPET = DEPLOY / "nginx" / "corrections-server.conf"
SITE = DEPLOY / "nginx" / "corrections.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


# --- what needs no nginx ---------------------------------------------------------------------


def test_gunicorn_does_not_announce_its_version():
    # gunicorn sends `Server: <gunicorn.SERVER>`; from 20.1 on it carries no version number.
    assert not re.search(r"\d", gunicorn.SERVER), gunicorn.SERVER


def edge_json_pattern() -> re.Pattern:
    """The path pattern by which nginx's refusals choose JSON (from the snippet itself)."""
    patterns = set(re.findall(r'if \(\$request_uri !~ "([^"]+)"\)', SNIPPET.read_text()))
    assert len(patterns) == 1, patterns
    return re.compile(patterns.pop())


@pytest.mark.parametrize("prefix", JSON_PATH_PREFIXES)
def test_nginx_answers_json_on_every_path_the_app_answers_json(prefix):
    assert edge_json_pattern().search(prefix + "/x?y=1")


@pytest.mark.parametrize("path", ["/subjects", "/alerts/3", "/login", "/admin/audit"])
def test_nginx_answers_a_page_elsewhere(path):
    assert not edge_json_pattern().search(path)


def test_every_refusal_nginx_makes_has_its_answer():
    text = SNIPPET.read_text()
    for status in (400, 413, 414, 431):
        assert f"location = /__edge_error/{status} " in text
        assert f"location = /__edge_page/{status} " in text
        bodies = re.findall(rf"return {status} '(\{{.*\}})\\n';", text)
        [body] = bodies
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message"} and error["code"] and error["message"]


def test_every_answer_nginx_writes_itself_says_utf8():
    text = SNIPPET.read_text()
    types = re.findall(r"default_type (.+);", text)
    assert len(types) == 8 and all("charset=utf-8" in t for t in types), types
    assert re.search(r"^charset utf-8;$", text, re.M)


# --- nginx in front of gunicorn ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(tmp: Path, listen: int, upstream: int, site: str | None = None) -> Path:
    """A main configuration for an unprivileged nginx under `tmp`, serving the snippet (or, for
    a syntax check, the whole site)."""
    (tmp / "snippets").mkdir(parents=True, exist_ok=True)
    shutil.copy(SNIPPET, tmp / "snippets" / SNIPPET.name)
    server = f"""
    upstream corrections_app {{ server 127.0.0.1:{upstream}; }}
    server {{ listen 127.0.0.1:{listen}; include snippets/{SNIPPET.name}; }}
    """
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {site if site is not None else server}
}}
"""
    )
    return conf


def wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@needs_nginx
def test_the_whole_site_configuration_passes_nginx_t(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a throwaway certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    site = SITE.read_text()
    site = site.replace("/etc/ssl/corrections/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/corrections/privkey.pem", str(key))
    conf = nginx_conf(tmp_path, 0, 0, site=site)
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def edge(tmp_path_factory, database_url, app):
    """gunicorn with deploy/gunicorn.conf.py (PROXY_COUNT=1, on the test database) behind nginx
    with the snippet, for the whole module; yields nginx's port."""
    if NGINX is None:
        pytest.skip("nginx is not installed")
    tmp_path = tmp_path_factory.mktemp("edge")
    app_port, edge_port = free_port(), free_port()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "TEST_DATABASE_URL": database_url,
        "PROXY_COUNT": "1",
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "1",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = None
    try:
        wait_for(app_port, web, "gunicorn")
        conf = nginx_conf(tmp_path / "nginx", edge_port, app_port)
        proxy = subprocess.Popen(
            [NGINX, "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(edge_port, proxy, "nginx")
        yield edge_port
    finally:
        if proxy is not None:
            stop(proxy)
        stop(web)


def request(port: int, method: str, path: str, *, headers=None, body=None, source="127.0.0.1"):
    """One request through nginx from the address `source`; (status, headers, body text)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=20, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def raw(port: int, data: bytes) -> tuple[int, str]:
    """Bytes sent as they are (a malformed request); (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


def header(headers, name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name.lower()]


def contract_error(status: int, body: str, expected: int, code: str) -> None:
    assert status == expected, body
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"].strip()


@needs_nginx
def test_proxied_answers_name_no_server_version(edge):
    status, headers, _ = request(edge, "GET", "/login")
    assert status == 200
    assert header(headers, "Server") == ["nginx"]  # gunicorn's own Server header is not passed
    status, headers, _ = request(edge, "GET", "/nowhere/" + "x" * 9000)
    assert header(headers, "Server") == ["nginx"]


@needs_nginx
def test_the_apps_own_json_errors_pass_through(edge):
    status, headers, body = request(edge, "GET", "/api/v1/subjects")
    contract_error(status, body, 401, "unauthorized")
    assert header(headers, "Cache-Control") == ["no-store"]
    assert header(headers, "Content-Type") == ["application/json; charset=utf-8"]


@needs_nginx
@pytest.mark.parametrize("path", ["/api/v1/subjects", "/mobile/v1/me", "/osmand", "/subjects"])
def test_an_overlong_url_is_a_414_in_the_contract_shape(edge, path):
    # nginx never reads the path of a request line too long for its buffer: JSON for all.
    status, headers, body = request(edge, "GET", path + "?q=" + "x" * 9000)
    contract_error(status, body, 414, "uri_too_long")
    assert header(headers, "Content-Type") == ["application/json; charset=utf-8"]


@needs_nginx
def test_an_overlong_header_is_a_431_in_the_contract_shape_on_json_paths(edge):
    status, _, body = request(edge, "GET", "/api/v1/alerts", headers={"X-Junk": "y" * 9000})
    contract_error(status, body, 431, "headers_too_large")
    many = {f"X-Junk-{i}": "z" * 7000 for i in range(6)}  # each fits, together they do not
    status, _, body = request(edge, "GET", "/mobile/v1/me", headers=many)
    contract_error(status, body, 431, "headers_too_large")


@needs_nginx
def test_an_overlong_header_on_a_page_is_a_short_page(edge):
    status, headers, body = request(edge, "GET", "/subjects", headers={"Cookie": "a=" + "b" * 9000})
    assert status == 431
    assert header(headers, "Content-Type") == ["text/html; charset=utf-8"]
    assert "请求头太大" in body
    [policy] = header(headers, "Content-Security-Policy")
    assert "frame-ancestors 'none'" in policy and "script-src" not in policy


@needs_nginx
def test_a_body_over_the_limit_is_a_413_in_the_contract_shape(edge):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    status, _, text = request(
        edge, "POST", "/api/v1/subjects", body=body, headers={"Content-Type": "application/json"}
    )
    contract_error(status, text, 413, "too_large")


@needs_nginx
def test_a_malformed_request_is_a_400_in_the_contract_shape(edge):
    status, body = raw(edge, b"GET /api/v1/alerts HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    contract_error(status, body, 400, "malformed_request")
    status, body = raw(edge, b"NONSENSE\r\n\r\n")
    contract_error(status, body, 400, "malformed_request")


@needs_nginx
def test_a_long_url_within_the_limit_reaches_the_app(edge):
    # gunicorn's own 4094-byte limit would answer this with a bare 400 of its own.
    status, _, body = request(edge, "GET", "/api/v1/subjects?q=" + "x" * 6000)
    contract_error(status, body, 401, "unauthorized")


#: A client address of its own (all of 127/8 is this machine): nginx sees the test come from
#: here, gunicorn sees nginx come from 127.0.0.1.
CLIENT = "127.0.0.77"


@needs_nginx
def test_the_audit_log_records_the_proxys_view_of_the_client_not_a_forged_one(edge, app, world):
    status, _, body = request(
        edge,
        "POST",
        "/api/v1/auth/token",
        body=json.dumps({"username": "admin", "password": "correct-horse-1"}),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, body
    token = json.loads(body)["token"]
    forged = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.99"}
    status, _, body = request(edge, "GET", "/api/v1/subjects", headers=forged, source=CLIENT)
    assert status == 200, body
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "subject.list"))
        db.session.remove()
    # Neither the proxy's own address nor what the client wrote in X-Forwarded-For.
    assert entry.ip == CLIENT
