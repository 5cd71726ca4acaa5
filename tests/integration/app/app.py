"""A tiny app for the cluster tests, on the Debian base with python3 only.

serve            HTTP on $PORT (8080): GET / answers BODY plus the pod name.
fetch URL        print the body of an HTTP GET (used from inside a pod).
push REG REPO TAG  push a one-layer image to a plain-HTTP registry with the
                 distribution API, print its manifest digest.
"""

import hashlib
import http.server
import io
import json
import os
import socket
import sys
import tarfile
import urllib.request

BODY = "hello from the paas testbed app"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{BODY} on {socket.gethostname()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve():
    port = int(os.environ.get("PORT", "8080"))
    print(f"app listening on :{port}", flush=True)
    http.server.ThreadingHTTPServer(("", port), Handler).serve_forever()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        sys.stdout.write(resp.read().decode())


def upload(base, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"{base}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as resp:
        location = resp.headers["Location"]
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    req = urllib.request.Request(
        f"{location}{sep}digest={digest}",
        method="PUT",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    urllib.request.urlopen(req, timeout=30).close()
    return digest


def push(registry, repo, tag):
    base = f"http://{registry}"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        content = f"pushed from pod {socket.gethostname()}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer = buf.getvalue()
    layer_digest = upload(base, repo, layer)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    ).encode()
    config_digest = upload(base, repo, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    req = urllib.request.Request(
        f"{base}/v2/{repo}/manifests/{tag}",
        method="PUT",
        data=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    urllib.request.urlopen(req, timeout=30).close()
    print("sha256:" + hashlib.sha256(manifest).hexdigest(), flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["serve"]
    {"serve": serve, "fetch": fetch, "push": push}[command](*args)
