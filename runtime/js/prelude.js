// The Web-standard globals scripts see. Heavy lifting is done by Go natives
// passed in as `native`; this file only gives them their standard shape.
(function (global, native) {
  "use strict";

  const enc = (s) => native.utf8Encode(String(s));
  const dec = (b) => native.utf8Decode(b);

  function normName(name) {
    name = String(name);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError("Invalid header name: " + name);
    return name.toLowerCase();
  }
  function normValue(v) {
    return String(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  }

  class Headers {
    #map = new Map(); // lowercase name -> array of values
    constructor(init) {
      if (init == null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init.#map) this.#map.set(k, v.slice());
      } else if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("Headers init pairs must have two items");
          this.append(p[0], p[1]);
        }
      } else if (typeof init === "object") {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError("Invalid Headers init");
      }
    }
    append(name, value) {
      const k = normName(name), v = normValue(value);
      const vs = this.#map.get(k);
      if (vs) vs.push(v); else this.#map.set(k, [v]);
    }
    set(name, value) { this.#map.set(normName(name), [normValue(value)]); }
    get(name) {
      const vs = this.#map.get(normName(name));
      return vs ? vs.join(", ") : null;
    }
    getSetCookie() { return (this.#map.get("set-cookie") || []).slice(); }
    has(name) { return this.#map.has(normName(name)); }
    delete(name) { this.#map.delete(normName(name)); }
    forEach(cb, thisArg) { for (const [k, v] of this) cb.call(thisArg, v, k, this); }
    *entries() {
      const keys = Array.from(this.#map.keys()).sort();
      for (const k of keys) {
        if (k === "set-cookie") { for (const v of this.#map.get(k)) yield [k, v]; }
        else yield [k, this.#map.get(k).join(", ")];
      }
    }
    keys() { return Array.from(this.entries(), (e) => e[0])[Symbol.iterator](); }
    values() { return Array.from(this.entries(), (e) => e[1])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    // raw pairs for the wire, one per value
    static _pairs(h) {
      const out = [];
      for (const [k, vs] of h.#map) for (const v of vs) out.push(k, v);
      return out;
    }
  }

  function bodyBytes(body) {
    if (body == null) return null;
    if (typeof body === "string") return enc(body);
    if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
    if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    if (body instanceof URLSearchParams) return enc(body.toString());
    return enc(String(body));
  }

  class Body {
    #bytes; #used = false;
    _initBody(body, headers) {
      this.#bytes = bodyBytes(body);
      if (typeof body === "string" && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      if (body instanceof URLSearchParams && !headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
    }
    get bodyUsed() { return this.#used; }
    get body() { return this.#bytes == null ? null : this.#bytes; }
    _take() {
      if (this.#used) throw new TypeError("Body has already been used. It can only be used once.");
      this.#used = true;
      return this.#bytes == null ? new Uint8Array(0) : this.#bytes;
    }
    _peek() { return this.#bytes; }
    async arrayBuffer() { const b = this._take(); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); }
    async bytes() { return new Uint8Array(await this.arrayBuffer()); }
    async text() { return dec(this._take()); }
    async json() { return JSON.parse(dec(this._take())); }
  }

  class Request extends Body {
    #method; #url; #headers;
    constructor(input, init = {}) {
      super();
      let body = init.body;
      if (input instanceof Request) {
        this.#url = input.url;
        this.#method = init.method || input.method;
        this.#headers = new Headers(init.headers || input.headers);
        if (body === undefined) body = input._peek();
      } else {
        this.#url = new URL(String(input)).href;
        this.#method = init.method ? String(init.method).toUpperCase() : "GET";
        this.#headers = new Headers(init.headers);
      }
      if (body != null && (this.#method === "GET" || this.#method === "HEAD")) {
        throw new TypeError("Request with GET/HEAD method cannot have body.");
      }
      this._initBody(body, this.#headers);
    }
    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() { return this.#headers; }
    clone() { return new Request(this); }
  }

  class Response extends Body {
    #status; #statusText; #headers;
    constructor(body = null, init = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError("Responses may only be constructed with status codes in the range 200 to 599, inclusive.");
      }
      if (body != null && (status === 204 || status === 205 || status === 304)) {
        throw new TypeError("Response with null body status cannot have body");
      }
      this.#status = status;
      this.#statusText = init.statusText === undefined ? "" : String(init.statusText);
      this.#headers = new Headers(init.headers);
      this._initBody(body, this.#headers);
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status < 300; }
    get headers() { return this.#headers; }
    get redirected() { return false; }
    get type() { return "default"; }
    clone() { return new Response(this._peek(), { status: this.#status, statusText: this.#statusText, headers: this.#headers }); }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid status code");
      return new Response(null, { status, headers: { location: new URL(String(url)).href } });
    }
  }

  // Interim URL, replaced by the WHATWG implementation in Go.
  class URL {
    #u;
    constructor(url, base) { this.#u = native.parseURL(String(url), base === undefined ? "" : String(base)); }
    get href() { return this.#u.href; }
    get protocol() { return this.#u.protocol; }
    get host() { return this.#u.host; }
    get hostname() { return this.#u.hostname; }
    get port() { return this.#u.port; }
    get pathname() { return this.#u.pathname; }
    get search() { return this.#u.search; }
    get hash() { return this.#u.hash; }
    get origin() { return this.#u.protocol + "//" + this.#u.host; }
    get searchParams() { return new URLSearchParams(this.#u.search); }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }

  class URLSearchParams {
    #list = [];
    constructor(init = "") {
      if (typeof init === "string") {
        for (const part of init.replace(/^\?/, "").split("&")) {
          if (!part) continue;
          const i = part.indexOf("=");
          const k = i < 0 ? part : part.slice(0, i), v = i < 0 ? "" : part.slice(i + 1);
          this.#list.push([native.formDecode(k), native.formDecode(v)]);
        }
      } else if (init && typeof init === "object") {
        for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
      }
    }
    get(k) { const e = this.#list.find((p) => p[0] === k); return e ? e[1] : null; }
    getAll(k) { return this.#list.filter((p) => p[0] === k).map((p) => p[1]); }
    has(k) { return this.#list.some((p) => p[0] === k); }
    append(k, v) { this.#list.push([String(k), String(v)]); }
    set(k, v) { this.delete(k); this.append(k, v); }
    delete(k) { this.#list = this.#list.filter((p) => p[0] !== k); }
    *entries() { yield* this.#list.map((p) => p.slice()); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this.#list.map((p) => native.formEncode(p[0]) + "=" + native.formEncode(p[1])).join("&"); }
  }

  const fmt = (args) => args.map((a) => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return a.stack || String(a);
    try { return JSON.stringify(a) ?? String(a); } catch (_) { return String(a); }
  }).join(" ");
  const console = {};
  for (const level of ["debug", "info", "log", "warn", "error"]) {
    console[level] = (...args) => native.log(level === "log" ? "info" : level, fmt(args));
  }

  Object.assign(global, { Headers, Request, Response, URL, URLSearchParams, console });

  // Internal hooks for the Go side, kept off the global object.
  return {
    newRequest(url, method, pairs, body) {
      const h = new Headers();
      for (let i = 0; i < pairs.length; i += 2) h.append(pairs[i], pairs[i + 1]);
      return new Request(url, { method, headers: h, body: body === null ? undefined : body });
    },
    unwrapResponse(r) {
      if (!(r instanceof Response)) return null;
      return { status: r.status, headers: Headers._pairs(r.headers), body: r._peek() };
    },
  };
})
