// Node.js glue: http.createServer around a Workers module, the way a
// Workers-compatible adapter does it (build a Request, await fetch(),
// write the Response). Usage: node glue/node.mjs <module.js> <port>
import http from "node:http";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [file, port] = process.argv.slice(2);
const mod = (await import(pathToFileURL(path.resolve(file)).href)).default;
const env = {};
const ctx = { waitUntil() {}, passThroughOnException() {} };

http
  .createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method,
        headers: req.headers,
        body: hasBody ? Buffer.concat(chunks) : undefined,
      });
      const response = await mod.fetch(request, env, ctx);
      const body = Buffer.from(await response.arrayBuffer());
      const headers = {};
      response.headers.forEach((v, k) => (headers[k] = v));
      headers["content-length"] = body.length;
      res.writeHead(response.status, headers);
      res.end(body);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  })
  .listen(Number(port), "127.0.0.1");
