"""The web process of a tiny web + worker app for paas: shows its release and a greeting."""

import os

from flask import Flask
from markupsafe import escape

app = Flask(__name__)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>web-worker on paas</title></head>
<body>
  <h1>{greeting} from web-worker</h1>
  <p>Release {release}</p>
  <p id="release">release={release}</p>
  <p id="greeting">greeting={greeting}</p>
  <p>A <code>worker</code> process logs a heartbeat every 5 seconds: see <code>paas logs -p worker</code>.</p>
</body>
</html>
"""


@app.get("/")
def index():
    # Read at request time so the page always shows the running release's values.
    release = escape(os.environ.get("PAAS_RELEASE") or "unknown")
    greeting = escape(os.environ.get("GREETING") or "Hello")
    return PAGE.format(release=release, greeting=greeting)


@app.get("/healthz")
def healthz():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


if __name__ == "__main__":
    # Local development only; in the platform gunicorn serves the app (see Procfile).
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
