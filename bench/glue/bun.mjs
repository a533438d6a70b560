// Bun glue: Bun.serve takes a Workers-style fetch handler as it is.
// Usage: bun glue/bun.mjs <module.js> <port>
import path from "node:path";

const [file, port] = process.argv.slice(2);
const mod = (await import(path.resolve(file))).default;
const env = {};
const ctx = { waitUntil() {}, passThroughOnException() {} };

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  fetch: (request) => mod.fetch(request, env, ctx),
});
