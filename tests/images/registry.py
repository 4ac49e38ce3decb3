#!/usr/bin/env python3
"""registry.py: container registries on 127.0.0.1 for tests/cli/test_registry.py.

Everything here listens on 127.0.0.1 only, on a free port, with state in a temp dir, and is
stopped by the PID (or thread) that started it:

  Registry     Debian's `docker-registry` (the CNCF distribution registry 2.8) run with a config
               of our own (never the packaged one): anonymous, htpasswd basic auth, or bearer
               tokens from a TokenServer; plain HTTP or TLS with a generated certificate.
  TokenServer  the registry's token server (python http.server in a thread): checks basic
               credentials and issues an RS256 JWT signed by `openssl dgst -sign` with the key of a
               self-signed certificate the registry trusts (auth.token.rootcertbundle), the
               certificate in the JWT's x5c header, access as the scope asked.
  Proxy        a tiny HTTP reverse proxy in front of a Registry, with a hook that may answer a
               request itself (a 429, a 401 challenge, a redirect) and a log of every request
               (method, path, headers) for assertions.
  BlobServer   serves registry blobs at /blob/DIGEST, fetched from the registry: the target of a
               redirect, recording the headers it got (credentials must not follow a redirect).

Standard library only, plus the `docker-registry`, `skopeo`, `htpasswd` and `openssl` tools
(Debian: docker-registry skopeo apache2-utils openssl). A missing tool raises fx.FixtureError.
"""
import base64
import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import fixtures as fx

PACKAGES = ["docker-registry", "skopeo", "apache2-utils", "openssl"]  # Debian names
SERVICE = "rummage-test-registry"
ISSUER = "rummage-test-token-issuer"


def need(tool):
    """fx.need, with this module's packages in the hint."""
    try:
        return fx.need(tool)
    except fx.FixtureError as ex:
        raise fx.FixtureError(f"registry test tool '{tool}' is not installed (Debian: apt-get "
                              f"install {' '.join(PACKAGES)})") from ex


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def self_signed(d, cn="127.0.0.1"):
    """A fresh RSA key and self-signed certificate (with 127.0.0.1 as an IP SAN) in d:
    returns (cert path, key path)."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = d / "cert.pem", d / "key.pem"
    fx.sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
          "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
          "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
          "-addext", "basicConstraints=critical,CA:TRUE")
    return cert, key


def htpasswd_file(path, users):
    """users {name: password} -> an htpasswd file with bcrypt hashes (htpasswd -Bbn)."""
    need("htpasswd")
    lines = [fx.sh("htpasswd", "-Bbn", u, p).decode().strip() for u, p in users.items()]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


class Registry:
    """docker-registry serve CONFIG on 127.0.0.1:PORT with storage under root/data.
    auth: None, ("htpasswd", FILE) or ("token", TokenServer). tls: (cert, key) or None."""

    def __init__(self, root, auth=None, tls=None):
        exe = need("docker-registry")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.tls = tls
        self.data = self.root / "data"
        lines = ["version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: true",
                 "storage:", "  filesystem:", f"    rootdirectory: {self.data}",
                 "  delete:", "    enabled: true", "  maintenance:", "    uploadpurging:",
                 "      enabled: false",
                 "http:", f"  addr: 127.0.0.1:{self.port}", "  secret: rummage-test-secret"]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
        if auth and auth[0] == "htpasswd":
            lines += ["auth:", "  htpasswd:", "    realm: rummage-test",
                      f"    path: {auth[1]}"]
        elif auth and auth[0] == "token":
            ts = auth[1]
            lines += ["auth:", "  token:", f"    realm: {ts.realm}", f"    service: {SERVICE}",
                      f"    issuer: {ISSUER}", f"    rootcertbundle: {ts.cert}"]
        self.config = self.root / "config.yml"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = open(self.root / "log", "wb")
        self.proc = subprocess.Popen([exe, "serve", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            self._wait()
        except Exception:
            self.stop()
            raise

    def _wait(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise fx.FixtureError("docker-registry exited at start: " + self.log_text())
            try:
                if self.tls:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2,
                                                    context=ctx)
                else:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v2/")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.05)
        raise fx.FixtureError("docker-registry did not answer within 15 s: " + self.log_text())

    def log_text(self):
        return (self.root / "log").read_text(errors="replace")[-1500:]

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.log.close()

    def push(self, src, dest, *opts, creds=None):
        """skopeo copy SRC docker://HOST/DEST (opts such as --all)."""
        need("skopeo")
        extra = ["--dest-creds", f"{creds[0]}:{creds[1]}"] if creds else []
        no_logins = self.root / "skopeo-auth.json"  # never the user's own logins
        no_logins.write_text("{}")
        fx.sh("skopeo", "copy", "-q", "--dest-tls-verify=false", *extra, *opts, src,
              f"docker://{self.host}/{dest}", env={"REGISTRY_AUTH_FILE": str(no_logins)})
        return f"{self.host}/{dest}"

    def blob_file(self, digest):
        algo, hexd = digest.split(":", 1)
        return self.data / "docker/registry/v2/blobs" / algo / hexd[:2] / hexd / "data"

    def get(self, path, headers=None):
        """GET on the registry itself (plain HTTP only): (status, headers, body)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, dict(r.getheaders()), body


class _Server:
    """An http.server on 127.0.0.1:free port in a daemon thread; stop() shuts it down."""

    def __init__(self, handler_class):
        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler_class)
        self.httpd.owner = self
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def basic_user(headers, users):
    """The user whose basic credentials are in headers and right, or None."""
    h = headers.get("Authorization", "")
    if not h.startswith("Basic "):
        return None
    try:
        user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
    except ValueError:
        return None
    return user if users.get(user) == pw else None


class TokenServer(_Server):
    """GET /token?service=S&scope=repository:NAME:ACTIONS (or registry:catalog:*) with basic
    credentials of one of users -> {"token": JWT, "access_token": JWT}; 401 with wrong ones,
    and without any unless self.anonymous (then a token for pull only, as Docker Hub gives for
    public images). Logs the requests (self.requests: (user or None, query))."""

    def __init__(self, root, users):
        self.users = users
        self.anonymous = False
        self.cert, self.key = self_signed(Path(root) / "token-cert", cn="rummage-test-token")
        der = fx.sh("openssl", "x509", "-in", self.cert, "-outform", "DER")
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        self.lock = threading.Lock()
        super().__init__(_TokenHandler)

    @property
    def realm(self):
        return f"{self.url}/token"

    def issue(self, user, scope):
        access = []
        for sc in filter(None, scope.split(" ")):
            parts = sc.split(":")
            if len(parts) >= 3 and parts[0] in ("repository", "registry"):
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 600,
                  "nbf": now - 60, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run([fx.need("openssl"), "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing, stdout=subprocess.PIPE, check=True).stdout
        return signing.decode() + "." + b64url(sig)


class _TokenHandler(_Quiet):
    def do_GET(self):
        ts = self.server.owner
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        user = basic_user(self.headers, ts.users)
        with ts.lock:
            ts.requests.append((user, q))
        if url.path != "/token" or q.get("service") != [SERVICE]:
            self.reply(400, body=b"bad token request")
            return
        scope = " ".join(q.get("scope", []))
        if not user and ts.anonymous and "Authorization" not in self.headers:
            user, scope = "", " ".join(sc.rsplit(":", 1)[0] + ":pull" for sc in scope.split())
        if user is None:
            self.reply(401, {"WWW-Authenticate": 'Basic realm="token"'}, b"unauthorized")
            return
        tok = ts.issue(user, scope)
        self.reply(200, {"Content-Type": "application/json"},
                   json.dumps({"token": tok, "access_token": tok, "expires_in": 600}).encode())


class Proxy(_Server):
    """A reverse proxy to registry (plain HTTP). hook(handler) may answer a request itself:
    it returns (status, headers, body) or None to forward it. Every request is logged in
    self.log as (method, path, {header: value})."""

    def __init__(self, registry, hook=None):
        self.registry = registry
        self.hook = hook
        self.log = []
        self.lock = threading.Lock()
        super().__init__(_ProxyHandler)

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"


class _ProxyHandler(_Quiet):
    def _handle(self):
        p = self.server.owner
        with p.lock:
            p.log.append((self.command, self.path, dict(self.headers.items())))
        answer = p.hook(self) if p.hook else None
        if answer is not None:
            self.reply(*answer)
            return
        fwd = {k: v for k, v in self.headers.items()
               if k.lower() not in ("host", "connection", "authorization")}
        c = http.client.HTTPConnection("127.0.0.1", p.registry.port, timeout=60)
        c.request(self.command, self.path, headers=fwd)
        r = c.getresponse()
        body = r.read()
        c.close()
        hdrs = {k: v for k, v in r.getheaders()
                if k.lower() not in ("connection", "content-length", "transfer-encoding")}
        # Redirects of the registry point at the registry: keep them through the proxy.
        self.reply(r.status, hdrs, body)

    do_GET = _handle
    do_HEAD = _handle


class BlobServer(_Server):
    """GET /blob/ALG:HEX -> the registry's blob (fetched anonymously from it). self.log has
    the headers of each request."""

    def __init__(self, registry, repo):
        self.registry = registry
        self.repo = repo
        self.log = []
        self.lock = threading.Lock()
        super().__init__(_BlobHandler)


class _BlobHandler(_Quiet):
    def do_GET(self):
        b = self.server.owner
        with b.lock:
            b.log.append((self.path, dict(self.headers.items())))
        digest = self.path.rsplit("/", 1)[-1]
        st, _, body = b.registry.get(f"/v2/{b.repo}/blobs/{digest}")
        self.reply(st, {"Content-Type": "application/octet-stream"}, body)

