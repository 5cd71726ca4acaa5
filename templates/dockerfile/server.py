"""A tiny stdlib-only web app for paas, built from a Dockerfile.

Shows its release and a greeting; runs on any image with python3.
"""

import html
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>dockerfile on paas</title></head>
<body>
  <h1>{greeting} from dockerfile</h1>
  <p>Release {release}</p>
  <p id="release">release={release}</p>
  <p id="greeting">greeting={greeting}</p>
</body>
</html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "paas-dockerfile/1.0"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            release = html.escape(os.environ.get("PAAS_RELEASE") or "unknown")
            greeting = html.escape(os.environ.get("GREETING") or "Hello")
            self.reply(200, "text/html", PAGE.format(release=release, greeting=greeting))
        elif path == "/healthz":
            self.reply(200, "text/plain", "ok")
        else:
            self.reply(404, "text/plain", "not found")

    def reply(self, status, content_type, text):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        # One line per request on stdout (the default goes to stderr).
        print(f"{self.address_string()} {format % args}", flush=True)


def main():
    port = int(os.environ.get("PORT") or "5000")
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)

    # As PID 1 in a container, SIGTERM is ignored unless handled. shutdown()
    # blocks until serve_forever() returns, so call it from another thread.
    def stop(signum, frame):
        print("SIGTERM received, shutting down", flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(f"dockerfile listening on 0.0.0.0:{port}", flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
