// A tiny Express app for paas: shows its release and a greeting.
const express = require("express");

const app = express();
const port = Number(process.env.PORT) || 5000;

// One log line per request, on stdout (paas logs reads stdout).
app.use((req, res, next) => {
  const start = process.hrtime.bigint();
  res.on("finish", () => {
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`${req.ip} "${req.method} ${req.originalUrl}" ${res.statusCode} ${ms.toFixed(1)}ms`);
  });
  next();
});

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

app.get("/", (req, res) => {
  const release = escapeHtml(process.env.PAAS_RELEASE || "unknown");
  const greeting = escapeHtml(process.env.GREETING || "Hello");
  res.type("html").send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>node-express on paas</title></head>
<body>
  <h1>${greeting} from node-express</h1>
  <p>Release ${release}</p>
  <p id="release">release=${release}</p>
  <p id="greeting">greeting=${greeting}</p>
</body>
</html>
`);
});

app.get("/healthz", (req, res) => {
  res.type("text").send("ok");
});

const server = app.listen(port, "0.0.0.0", () => {
  console.log(`node-express listening on 0.0.0.0:${port}`);
});

// Kubernetes sends SIGTERM on stop: finish in-flight requests, then exit.
function shutdown(signal) {
  console.log(`${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
