// The Web-standard globals scripts see, shaped as in Cloudflare Workers.
// Heavy lifting (encodings, URL parsing, hashing, crypto, multipart, the
// network) is done by Go natives passed in as `native`; this file gives them
// their standard JS shape and keeps the pure-JS glue (streams, bodies).
(function (global, native) {
  "use strict";

  const INTERNAL = Symbol("internal"); // unforgeable constructor token
  // goja lacks Symbol.asyncIterator; esbuild's for-await helper falls back
  // to Symbol.for("Symbol.asyncIterator"), so both name the same symbol.
  if (!Symbol.asyncIterator) Object.defineProperty(Symbol, "asyncIterator", { value: Symbol.for("Symbol.asyncIterator") });
  // Views over buffers Go already made allocate nothing: they skip the
  // allocation guard (harden.js), which would otherwise run on each one.
  const U8 = Uint8Array;
  const enc = (s) => new U8(native.utf8Encode(String(s)));
  const dec = (b) => native.utf8Decode(b); // TextDecoder's default decode, in one call
  const parseJSON = (b) => JSON.parse(dec(b));
  const copyOut = (b) => b.slice();
  const isBufferSource = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);
  const copyBytes = (v) => v instanceof ArrayBuffer
    ? new Uint8Array(v.slice(0))
    : new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const concatBytes = (parts) => new Uint8Array(native.concat(parts));
  const toAB = (u8) => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
  const define = (obj, props) => {
    for (const k of Object.keys(props)) {
      Object.defineProperty(obj, k, { value: props[k], writable: true, configurable: true, enumerable: false });
    }
  };

  // ---- DOMException, events, abort ------------------------------------

  const domCodes = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
    QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  class DOMException extends Error {
    #name;
    constructor(message = "", name = "Error") {
      super(String(message));
      this.#name = String(name);
    }
    get name() { return this.#name; }
    get code() { return domCodes[this.#name] || 0; }
  }
  for (const [n, c] of Object.entries(domCodes)) {
    const constName = n.replace(/Error$/, "").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() + "_ERR";
    Object.defineProperty(DOMException, constName, { value: c, enumerable: true });
  }

  class Event {
    #type; #defaultPrevented = false;
    constructor(type, init = {}) {
      this.#type = String(type);
      this.bubbles = !!init.bubbles;
      this.cancelable = !!init.cancelable;
      this.timeStamp = Date.now();
    }
    get type() { return this.#type; }
    get defaultPrevented() { return this.#defaultPrevented; }
    preventDefault() { if (this.cancelable) this.#defaultPrevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this._stop = true; }
  }

  class EventTarget {
    #listeners = new Map();
    addEventListener(type, fn, opts) {
      if (fn == null) return;
      const once = typeof opts === "object" && opts !== null && !!opts.once;
      const list = this.#listeners.get(type) || [];
      if (!list.some((l) => l.fn === fn)) list.push({ fn, once });
      this.#listeners.set(type, list);
    }
    removeEventListener(type, fn) {
      const list = this.#listeners.get(type);
      if (list) this.#listeners.set(type, list.filter((l) => l.fn !== fn));
    }
    dispatchEvent(event) {
      Object.defineProperty(event, "target", { value: this, configurable: true });
      Object.defineProperty(event, "currentTarget", { value: this, configurable: true });
      const handler = this["on" + event.type];
      const list = (this.#listeners.get(event.type) || []).slice();
      if (typeof handler === "function") list.unshift({ fn: handler, once: false });
      for (const l of list) {
        if (l.once) this.removeEventListener(event.type, l.fn);
        try {
          if (typeof l.fn === "function") l.fn.call(this, event); else l.fn.handleEvent(event);
        } catch (e) { reportError(e); }
        if (event._stop) break;
      }
      return !event.defaultPrevented;
    }
  }

  function reportError(e) {
    native.log("error", "Uncaught " + (e && e.stack ? e.stack : String(e)));
  }

  class AbortSignal extends EventTarget {
    #aborted = false; #reason;
    constructor(token) {
      if (token !== INTERNAL) throw new TypeError("Illegal constructor");
      super();
      this.onabort = null;
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    _abort(reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason === undefined ? new DOMException("The operation was aborted.", "AbortError") : reason;
      this.dispatchEvent(new Event("abort"));
    }
    static abort(reason) { const s = new AbortSignal(INTERNAL); s._abort(reason); return s; }
    static timeout(ms) {
      const s = new AbortSignal(INTERNAL);
      global.setTimeout(() => s._abort(new DOMException("The operation timed out.", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(INTERNAL);
      for (const x of signals) {
        if (x.aborted) { s._abort(x.reason); return s; }
        x.addEventListener("abort", () => s._abort(x.reason), { once: true });
      }
      return s;
    }
  }

  class AbortController {
    #signal = new AbortSignal(INTERNAL);
    get signal() { return this.#signal; }
    abort(reason) { this.#signal._abort(reason); }
  }

  // ---- Encoding ---------------------------------------------------------

  const utf8Labels = ["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"];

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return enc(input); }
    encodeInto(source, destination) {
      if (!(destination instanceof Uint8Array)) throw new TypeError("encodeInto: destination must be a Uint8Array");
      const [read, written] = native.encodeInto(String(source), destination);
      return { read, written };
    }
  }

  class TextDecoder {
    #fatal; #ignoreBOM; #d = native.newDecoder();
    constructor(label = "utf-8", options = {}) {
      if (!utf8Labels.includes(String(label).trim().toLowerCase())) {
        throw new RangeError(`The "${label}" encoding is not supported`);
      }
      this.#fatal = !!(options && options.fatal);
      this.#ignoreBOM = !!(options && options.ignoreBOM);
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input, options = {}) {
      if (input !== undefined && input !== null && !isBufferSource(input)) {
        throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or a view");
      }
      const out = native.decode(this.#d, input, this.#fatal, this.#ignoreBOM, !!(options && options.stream));
      if (out === null) throw new TypeError("The encoded data was not valid for encoding utf-8");
      return out;
    }
  }

  function btoa(data) {
    if (arguments.length === 0) throw new TypeError("btoa requires 1 argument");
    const r = native.btoa(String(data));
    if (r === null) throw new DOMException("Invalid character", "InvalidCharacterError");
    return r;
  }
  function atob(data) {
    if (arguments.length === 0) throw new TypeError("atob requires 1 argument");
    const r = native.atob(String(data));
    if (r === null) throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
    return r;
  }

  // ---- URL and URLSearchParams (weburl in Go) ---------------------------

  class URLSearchParams {
    #sp;
    constructor(init = undefined, token = undefined) {
      if (token === INTERNAL) { this.#sp = init; return; }
      if (init === undefined || init === null) {
        this.#sp = native.spNew(init === null ? "null" : undefined);
      } else if (typeof init === "object" || typeof init === "function") {
        this.#sp = native.spNew(undefined);
        if (typeof init[Symbol.iterator] === "function") {
          for (const pair of init) {
            if (pair === null || typeof pair !== "object" || typeof pair[Symbol.iterator] !== "function") {
              throw new TypeError("URLSearchParams: each pair must be an iterable [name, value]");
            }
            const p = Array.from(pair);
            if (p.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
            native.spAppend(this.#sp, String(p[0]), String(p[1]));
          }
        } else {
          for (const k of Reflect.ownKeys(init)) {
            if (typeof k === "symbol") continue;
            const d = Object.getOwnPropertyDescriptor(init, k);
            if (d && d.enumerable) native.spAppend(this.#sp, k, String(init[k]));
          }
        }
      } else {
        this.#sp = native.spNew(String(init));
      }
    }
    get size() { return native.spLen(this.#sp); }
    append(name, value) { need(arguments, 2, "append"); native.spAppend(this.#sp, String(name), String(value)); }
    delete(name, value) { need(arguments, 1, "delete"); native.spDelete(this.#sp, String(name), value === undefined ? undefined : String(value)); }
    get(name) { need(arguments, 1, "get"); return native.spGet(this.#sp, String(name)); }
    getAll(name) { need(arguments, 1, "getAll"); return native.spGetAll(this.#sp, String(name)); }
    has(name, value) { need(arguments, 1, "has"); return native.spHas(this.#sp, String(name), value === undefined ? undefined : String(value)); }
    set(name, value) { need(arguments, 2, "set"); native.spSet(this.#sp, String(name), String(value)); }
    sort() { native.spSort(this.#sp); }
    toString() { return native.spString(this.#sp); }
    forEach(cb, thisArg) {
      if (typeof cb !== "function") throw new TypeError("URLSearchParams.forEach: callback is not a function");
      for (let i = 0; ; i++) {
        const p = native.spAt(this.#sp, i);
        if (p === null) return;
        cb.call(thisArg, p[1], p[0], this);
      }
    }
    entries() { return liveIterator(this.#sp, (p) => p, "URLSearchParams Iterator"); }
    keys() { return liveIterator(this.#sp, (p) => p[0], "URLSearchParams Iterator"); }
    values() { return liveIterator(this.#sp, (p) => p[1], "URLSearchParams Iterator"); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "URLSearchParams"; }
  }

  function need(args, n, what) {
    if (args.length < n) throw new TypeError(`${what} requires at least ${n} argument${n > 1 ? "s" : ""}`);
  }

  const iterProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  function liveIterator(sp, pick, tag) {
    let i = 0;
    const it = Object.create(iterProto);
    define(it, {
      next() {
        const p = native.spAt(sp, i);
        if (p === null) return { value: undefined, done: true };
        i++;
        return { value: pick(p), done: false };
      },
    });
    Object.defineProperty(it, Symbol.toStringTag, { value: tag, configurable: true });
    return it;
  }

  class URL {
    #u; #params = null;
    constructor(url, base = undefined) {
      if (arguments.length === 0) throw new TypeError("URL requires at least 1 argument");
      const u = native.urlParse(String(url), base === undefined ? undefined : String(base));
      if (u === null) throw new TypeError("Invalid URL: " + String(url));
      this.#u = u;
    }
    static canParse(url, base = undefined) {
      return native.urlParse(String(url), base === undefined ? undefined : String(base)) !== null;
    }
    static parse(url, base = undefined) {
      try { return new URL(url, base); } catch (_) { return null; }
    }
    get href() { return native.urlGet(this.#u, "href"); }
    set href(v) { if (!native.urlSet(this.#u, "href", String(v))) throw new TypeError("Invalid URL: " + String(v)); }
    get origin() { return native.urlGet(this.#u, "origin"); }
    get protocol() { return native.urlGet(this.#u, "protocol"); }
    set protocol(v) { native.urlSet(this.#u, "protocol", String(v)); }
    get username() { return native.urlGet(this.#u, "username"); }
    set username(v) { native.urlSet(this.#u, "username", String(v)); }
    get password() { return native.urlGet(this.#u, "password"); }
    set password(v) { native.urlSet(this.#u, "password", String(v)); }
    get host() { return native.urlGet(this.#u, "host"); }
    set host(v) { native.urlSet(this.#u, "host", String(v)); }
    get hostname() { return native.urlGet(this.#u, "hostname"); }
    set hostname(v) { native.urlSet(this.#u, "hostname", String(v)); }
    get port() { return native.urlGet(this.#u, "port"); }
    set port(v) { native.urlSet(this.#u, "port", String(v)); }
    get pathname() { return native.urlGet(this.#u, "pathname"); }
    set pathname(v) { native.urlSet(this.#u, "pathname", String(v)); }
    get search() { return native.urlGet(this.#u, "search"); }
    set search(v) { native.urlSet(this.#u, "search", String(v)); }
    get hash() { return native.urlGet(this.#u, "hash"); }
    set hash(v) { native.urlSet(this.#u, "hash", String(v)); }
    // [SameObject]: one wrapper for the URL's one linked list.
    get searchParams() {
      if (this.#params === null) this.#params = new URLSearchParams(native.urlSearchParams(this.#u), INTERNAL);
      return this.#params;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
    get [Symbol.toStringTag]() { return "URL"; }
  }

  // ---- Headers -----------------------------------------------------------

  // Scripts use a handful of header names over and over: remember the
  // lower-cased form of names already checked (bounded; internal).
  const headerNames = new Map();
  function normName(name) {
    name = String(name);
    let k = headerNames.get(name);
    if (k !== undefined) return k;
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError("Invalid header name: " + name);
    k = name.toLowerCase();
    if (headerNames.size >= 256) headerNames.clear();
    headerNames.set(name, k);
    return k;
  }
  // native.headerValue trims HTTP whitespace and returns null for a value
  // with NUL, CR or LF.
  function normValue(v) {
    v = native.headerValue(String(v));
    if (v === null) throw new TypeError("Invalid header value");
    return v;
  }
  // Module-private access to Headers' map (set in its static block), so
  // that internal fast paths are not reachable from scripts.
  let headersFromPairs, headersSetDefault, headerPairs;

  class Headers {
    #map = new Map(); // lowercase name -> array of values
    constructor(init = undefined) {
      if (init == null) return;
      if (init instanceof Headers) {
        init.#map.forEach((v, k) => { this.#map.set(k, v.slice()); });
      } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("Headers init pairs must have exactly two items");
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
    getAll(name) {
      const k = normName(name);
      if (k !== "set-cookie") throw new TypeError("getAll() can only be used with the header name \"Set-Cookie\".");
      return this.getSetCookie();
    }
    getSetCookie() { return (this.#map.get("set-cookie") || []).slice(); }
    has(name) { return this.#map.has(normName(name)); }
    delete(name) { this.#map.delete(normName(name)); }
    forEach(cb, thisArg) { for (const [k, v] of this) cb.call(thisArg, v, k, this); }
    *entries() {
      const keys = Array.from(this.#map.keys()).sort();
      for (const k of keys) {
        const vs = this.#map.get(k);
        if (!vs) continue;
        if (k === "set-cookie") { for (const v of vs) yield [k, v]; }
        else yield [k, vs.join(", ")];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
    // Raw pairs for the wire, one per value: several Set-Cookie lines.
    static _pairs(h) { return headerPairs(h); }
    static {
      headerPairs = (h) => {
        const out = [];
        h.#map.forEach((vs, k) => { for (let i = 0; i < vs.length; i++) out.push(k, vs[i]); });
        return out;
      };
      // pairs come from Go, names lower-cased and values checked there.
      headersFromPairs = (pairs) => {
        const h = new Headers(), m = h.#map;
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          const vs = m.get(pairs[i]);
          if (vs) vs.push(pairs[i + 1]); else m.set(pairs[i], [pairs[i + 1]]);
        }
        return h;
      };
      // k must be lower case and v valid.
      headersSetDefault = (h, k, v) => { if (!h.#map.has(k)) h.#map.set(k, [v]); };
    }
  }

  // ---- Blob, File, FormData ---------------------------------------------

  class Blob {
    #bytes; #type;
    constructor(parts = [], options = {}) {
      if (parts instanceof Uint8Array && options === INTERNAL) { this.#bytes = parts; this.#type = ""; return; }
      if (typeof parts !== "object" || parts === null || typeof parts[Symbol.iterator] !== "function") {
        throw new TypeError("Blob: parts must be a sequence");
      }
      const chunks = [];
      for (const p of parts) {
        if (p instanceof Blob) chunks.push(p.#bytes);
        else if (isBufferSource(p)) chunks.push(copyBytes(p));
        else chunks.push(enc(p));
      }
      this.#bytes = chunks.length === 1 ? chunks[0] : concatBytes(chunks);
      const t = options && options.type !== undefined ? String(options.type) : "";
      this.#type = /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : "";
    }
    get size() { return this.#bytes.byteLength; }
    get type() { return this.#type; }
    slice(start = 0, end = this.size, type = "") {
      const n = this.size;
      const rel = (x) => (x < 0 ? Math.max(n + x, 0) : Math.min(x, n));
      const s = rel(Math.trunc(start) || 0), e = rel(Math.trunc(end) || 0);
      const b = new Blob(this.#bytes.slice(s, Math.max(s, e)), INTERNAL);
      b.#type = String(type).toLowerCase();
      return b;
    }
    async arrayBuffer() { return toAB(this.#bytes); }
    async bytes() { return this.#bytes.slice(); }
    async text() { return dec(this.#bytes); }
    stream() { return bytesStream(this.#bytes); }
    get [Symbol.toStringTag]() { return "Blob"; }
    static _bytes(b) { return b.#bytes; }
  }

  class File extends Blob {
    #name; #lastModified;
    constructor(parts, name, options = {}) {
      if (arguments.length < 2) throw new TypeError("File requires 2 arguments");
      super(parts, options);
      this.#name = String(name);
      this.#lastModified = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
    }
    get name() { return this.#name; }
    get lastModified() { return this.#lastModified; }
    get [Symbol.toStringTag]() { return "File"; }
  }

  function formValue(value, filename) {
    if (value instanceof Blob) {
      if (filename !== undefined) return new File([value], String(filename), { type: value.type });
      if (value instanceof File) return value;
      return new File([value], "blob", { type: value.type });
    }
    return String(value);
  }

  class FormData {
    #list = [];
    constructor(form = undefined) {
      if (form !== undefined) throw new TypeError("FormData: only the no-argument constructor is supported");
    }
    append(name, value, filename) { need(arguments, 2, "append"); this.#list.push([String(name), formValue(value, filename)]); }
    delete(name) { name = String(name); this.#list = this.#list.filter((e) => e[0] !== name); }
    get(name) { name = String(name); const e = this.#list.find((x) => x[0] === name); return e ? e[1] : null; }
    getAll(name) { name = String(name); return this.#list.filter((e) => e[0] === name).map((e) => e[1]); }
    has(name) { name = String(name); return this.#list.some((e) => e[0] === name); }
    set(name, value, filename) {
      need(arguments, 2, "set");
      name = String(name);
      const v = formValue(value, filename);
      const i = this.#list.findIndex((e) => e[0] === name);
      if (i < 0) { this.#list.push([name, v]); return; }
      this.#list[i] = [name, v];
      this.#list = this.#list.filter((e, j) => j <= i || e[0] !== name);
    }
    *entries() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i].slice(); }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(cb, thisArg) { for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "FormData"; }
    static _entries(f) { return f.#list; }
  }

  // ---- Streams -------------------------------------------------------------

  class ReadableStreamDefaultController {
    #s;
    constructor(token, ops) {
      if (token !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = ops;
    }
    get desiredSize() { return this.#s.desiredSize(); }
    enqueue(chunk) { this.#s.enqueue(chunk); }
    close() { this.#s.close(); }
    error(e) { this.#s.error(e); }
  }

  class ReadableStreamDefaultReader {
    #stream; #ops; #closed;
    constructor(stream, token, ops) {
      if (token !== INTERNAL) {
        if (!(stream instanceof ReadableStream)) throw new TypeError("ReadableStreamDefaultReader needs a ReadableStream");
        return stream.getReader();
      }
      this.#stream = stream;
      this.#ops = ops;
      this.#closed = ops.closed;
    }
    get closed() { return this.#closed; }
    read() {
      if (!this.#ops) return Promise.reject(new TypeError("This reader has been released"));
      return this.#ops.read();
    }
    cancel(reason) {
      if (!this.#ops) return Promise.reject(new TypeError("This reader has been released"));
      return this.#stream.cancelInternal(reason);
    }
    releaseLock() {
      if (!this.#ops) return;
      this.#ops.release();
      this.#ops = null;
    }
  }

  class ReadableStream {
    #state = "readable"; #queue = []; #reads = []; #error;
    #source; #controller; #hwm; #started = false; #pulling = false; #pullAgain = false;
    #closeRequested = false; #reader = null; #disturbed = false; #closedP; #resolveClosed; #rejectClosed;

    constructor(source = {}, strategy = {}) {
      if (source === null) source = {};
      this.#source = source;
      this.#hwm = strategy && strategy.highWaterMark !== undefined ? Number(strategy.highWaterMark) : 1;
      this.#closedP = new Promise((res, rej) => { this.#resolveClosed = res; this.#rejectClosed = rej; });
      this.#closedP.catch(() => {});
      this.#controller = new ReadableStreamDefaultController(INTERNAL, {
        desiredSize: () => (this.#state === "errored" ? null : this.#state === "closed" ? 0 : this.#hwm - this.#queue.length),
        enqueue: (c) => this.#enqueue(c),
        close: () => this.#close(),
        error: (e) => this.#fail(e),
      });
      let start;
      try {
        start = typeof source.start === "function" ? source.start.call(source, this.#controller) : undefined;
      } catch (e) { this.#fail(e); throw e; }
      Promise.resolve(start).then(() => { this.#started = true; this.#pullIfNeeded(); }, (e) => this.#fail(e));
    }

    get locked() { return this.#reader !== null; }
    get _disturbed() { return this.#disturbed; }

    #enqueue(chunk) {
      if (this.#state !== "readable" || this.#closeRequested) throw new TypeError("Cannot enqueue into a closed stream");
      if (this.#reads.length > 0) this.#reads.shift().resolve({ value: chunk, done: false });
      else this.#queue.push(chunk);
      this.#pullIfNeeded();
    }
    #close() {
      if (this.#state !== "readable" || this.#closeRequested) throw new TypeError("The stream is already closed");
      this.#closeRequested = true;
      if (this.#queue.length === 0) this.#finish();
    }
    #finish() {
      this.#state = "closed";
      for (const r of this.#reads.splice(0)) r.resolve({ value: undefined, done: true });
      this.#resolveClosed();
    }
    #fail(e) {
      if (this.#state !== "readable") return;
      this.#state = "errored";
      this.#error = e;
      this.#queue = [];
      for (const r of this.#reads.splice(0)) r.reject(e);
      this.#rejectClosed(e);
    }
    #pullIfNeeded() {
      if (!this.#started || this.#state !== "readable" || this.#closeRequested) return;
      if (typeof this.#source.pull !== "function") return;
      if (this.#reads.length === 0 && this.#queue.length >= this.#hwm) return;
      if (this.#pulling) { this.#pullAgain = true; return; }
      this.#pulling = true;
      let r;
      try { r = this.#source.pull.call(this.#source, this.#controller); } catch (e) { this.#fail(e); return; }
      Promise.resolve(r).then(() => {
        this.#pulling = false;
        if (this.#pullAgain) { this.#pullAgain = false; this.#pullIfNeeded(); }
      }, (e) => this.#fail(e));
    }
    #read() {
      this.#disturbed = true;
      if (this.#queue.length > 0) {
        const value = this.#queue.shift();
        if (this.#closeRequested && this.#queue.length === 0) this.#finish();
        else this.#pullIfNeeded();
        return Promise.resolve({ value, done: false });
      }
      if (this.#state === "closed") return Promise.resolve({ value: undefined, done: true });
      if (this.#state === "errored") return Promise.reject(this.#error);
      return new Promise((resolve, reject) => {
        this.#reads.push({ resolve, reject });
        this.#pullIfNeeded();
      });
    }

    getReader(options = {}) {
      if (options && options.mode !== undefined && options.mode !== "byob") throw new TypeError("Invalid reader mode");
      if (options && options.mode === "byob") throw new TypeError("BYOB readers are not supported");
      if (this.#reader) throw new TypeError("ReadableStream is locked to a reader");
      const reader = new ReadableStreamDefaultReader(this, INTERNAL, {
        read: () => this.#read(),
        closed: this.#closedP,
        release: () => {
          for (const r of this.#reads.splice(0)) r.reject(new TypeError("Reader released"));
          this.#reader = null;
        },
      });
      this.#reader = reader;
      return reader;
    }
    cancel(reason) {
      if (this.#reader) return Promise.reject(new TypeError("Cannot cancel a locked stream"));
      return this.cancelInternal(reason);
    }
    cancelInternal(reason) {
      this.#disturbed = true;
      if (this.#state === "closed") return Promise.resolve();
      if (this.#state === "errored") return Promise.reject(this.#error);
      this.#queue = [];
      this.#finish();
      try {
        const r = typeof this.#source.cancel === "function" ? this.#source.cancel.call(this.#source, reason) : undefined;
        return Promise.resolve(r).then(() => undefined);
      } catch (e) { return Promise.reject(e); }
    }
    tee() {
      const reader = this.getReader();
      let reading = false, c1, c2, canceled1 = false, canceled2 = false;
      const pull = () => {
        if (reading) return Promise.resolve();
        reading = true;
        return reader.read().then(({ value, done }) => {
          reading = false;
          if (done) {
            if (!canceled1) c1.close();
            if (!canceled2) c2.close();
            return;
          }
          if (!canceled1) c1.enqueue(value);
          if (!canceled2) c2.enqueue(value);
        }, (e) => { c1.error(e); c2.error(e); });
      };
      const cancelBoth = (which) => (reason) => {
        if (which === 1) canceled1 = true; else canceled2 = true;
        if (canceled1 && canceled2) return reader.cancel(reason);
      };
      const b1 = new ReadableStream({ start: (c) => { c1 = c; }, pull, cancel: cancelBoth(1) });
      const b2 = new ReadableStream({ start: (c) => { c2 = c; }, pull, cancel: cancelBoth(2) });
      return [b1, b2];
    }
    async pipeTo(dest, options = {}) {
      const reader = this.getReader();
      const writer = dest.getWriter();
      try {
        for (;;) {
          if (options.signal && options.signal.aborted) throw options.signal.reason;
          const { value, done } = await reader.read();
          if (done) break;
          await writer.write(value);
        }
        if (!options.preventClose) await writer.close();
      } catch (e) {
        if (!options.preventAbort) await writer.abort(e).catch(() => {});
        if (!options.preventCancel) await reader.cancel(e).catch(() => {});
        throw e;
      } finally {
        reader.releaseLock();
        writer.releaseLock();
      }
    }
    pipeThrough(transform, options = {}) {
      this.pipeTo(transform.writable, options).catch(() => {});
      return transform.readable;
    }
    values(options = {}) {
      const reader = this.getReader();
      const preventCancel = !!(options && options.preventCancel);
      const it = {
        next: () => reader.read().then((r) => { if (r.done) reader.releaseLock(); return r; }),
        return: (value) => {
          const p = preventCancel ? Promise.resolve() : reader.cancel(value);
          return p.then(() => { reader.releaseLock(); return { value, done: true }; });
        },
        [Symbol.asyncIterator]() { return this; },
      };
      return it;
    }
    [Symbol.asyncIterator](options) { return this.values(options); }
    get [Symbol.toStringTag]() { return "ReadableStream"; }
    static from(iterable) {
      const it = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
      return new ReadableStream({
        async pull(c) {
          const { value, done } = await it.next();
          if (done) c.close(); else c.enqueue(value);
        },
        async cancel(reason) { if (typeof it.return === "function") await it.return(reason); },
      }, { highWaterMark: 0 });
    }
  }

  function bytesStream(bytes) {
    return new ReadableStream({
      start(c) { if (bytes.byteLength > 0) c.enqueue(bytes); c.close(); },
    }, { highWaterMark: 0 });
  }

  class WritableStreamDefaultController {
    #err;
    constructor(token, err) { if (token !== INTERNAL) throw new TypeError("Illegal constructor"); this.#err = err; }
    error(e) { this.#err(e); }
    get signal() { return undefined; }
  }

  class WritableStreamDefaultWriter {
    #ops;
    constructor(stream, token, ops) {
      if (token !== INTERNAL) return stream.getWriter();
      this.#ops = ops;
    }
    get closed() { return this.#ops ? this.#ops.closed : Promise.reject(new TypeError("released")); }
    get ready() { return Promise.resolve(); }
    get desiredSize() { return this.#ops ? this.#ops.desiredSize() : null; }
    write(chunk) { return this.#ops ? this.#ops.write(chunk) : Promise.reject(new TypeError("This writer has been released")); }
    close() { return this.#ops ? this.#ops.close() : Promise.reject(new TypeError("This writer has been released")); }
    abort(reason) { return this.#ops ? this.#ops.abort(reason) : Promise.reject(new TypeError("This writer has been released")); }
    releaseLock() { if (this.#ops) { this.#ops.release(); this.#ops = null; } }
  }

  class WritableStream {
    #sink; #state = "writable"; #queue = []; #busy = false; #started = false; #error;
    #writer = null; #closing = null; #closedP; #resolveClosed; #rejectClosed; #controller;
    constructor(sink = {}, strategy = {}) {
      if (sink === null) sink = {};
      this.#sink = sink;
      this.#closedP = new Promise((res, rej) => { this.#resolveClosed = res; this.#rejectClosed = rej; });
      this.#closedP.catch(() => {});
      this.#controller = new WritableStreamDefaultController(INTERNAL, (e) => this.#fail(e));
      let start;
      try { start = typeof sink.start === "function" ? sink.start.call(sink, this.#controller) : undefined; } catch (e) { this.#fail(e); throw e; }
      Promise.resolve(start).then(() => { this.#started = true; this.#advance(); }, (e) => this.#fail(e));
    }
    get locked() { return this.#writer !== null; }
    #fail(e) {
      if (this.#state === "errored" || this.#state === "closed") return;
      this.#state = "errored";
      this.#error = e;
      for (const w of this.#queue.splice(0)) w.reject(e);
      if (this.#closing) { this.#closing.reject(e); this.#closing = null; }
      this.#rejectClosed(e);
    }
    #advance() {
      if (!this.#started || this.#busy || this.#state !== "writable") return;
      if (this.#queue.length === 0) {
        if (this.#closing) {
          const c = this.#closing;
          this.#busy = true;
          let r;
          try { r = typeof this.#sink.close === "function" ? this.#sink.close.call(this.#sink) : undefined; } catch (e) { r = Promise.reject(e); }
          Promise.resolve(r).then(() => {
            this.#busy = false;
            this.#state = "closed";
            this.#closing = null;
            c.resolve();
            this.#resolveClosed();
          }, (e) => { this.#busy = false; this.#fail(e); });
        }
        return;
      }
      const w = this.#queue.shift();
      this.#busy = true;
      let r;
      try { r = typeof this.#sink.write === "function" ? this.#sink.write.call(this.#sink, w.chunk, this.#controller) : undefined; } catch (e) { r = Promise.reject(e); }
      Promise.resolve(r).then(() => { this.#busy = false; w.resolve(); this.#advance(); },
        (e) => { this.#busy = false; w.reject(e); this.#fail(e); });
    }
    #write(chunk) {
      if (this.#state !== "writable" || this.#closing) {
        return Promise.reject(this.#state === "errored" ? this.#error : new TypeError("The stream is closing or closed"));
      }
      return new Promise((resolve, reject) => { this.#queue.push({ chunk, resolve, reject }); this.#advance(); });
    }
    #closeInternal() {
      if (this.#state !== "writable" || this.#closing) return Promise.reject(new TypeError("The stream is closing or closed"));
      return new Promise((resolve, reject) => { this.#closing = { resolve, reject }; this.#advance(); });
    }
    #abortInternal(reason) {
      if (this.#state === "closed" || this.#state === "errored") return Promise.resolve();
      this.#fail(reason);
      try {
        return Promise.resolve(typeof this.#sink.abort === "function" ? this.#sink.abort.call(this.#sink, reason) : undefined).then(() => undefined);
      } catch (e) { return Promise.reject(e); }
    }
    getWriter() {
      if (this.#writer) throw new TypeError("WritableStream is locked to a writer");
      this.#writer = new WritableStreamDefaultWriter(this, INTERNAL, {
        closed: this.#closedP,
        desiredSize: () => (this.#state === "writable" ? Math.max(0, 1 - this.#queue.length) : 0),
        write: (c) => this.#write(c),
        close: () => this.#closeInternal(),
        abort: (r) => this.#abortInternal(r),
        release: () => { this.#writer = null; },
      });
      return this.#writer;
    }
    close() { return this.#writer ? Promise.reject(new TypeError("locked")) : this.#closeInternal(); }
    abort(reason) { return this.#writer ? Promise.reject(new TypeError("locked")) : this.#abortInternal(reason); }
    get [Symbol.toStringTag]() { return "WritableStream"; }
  }

  class TransformStream {
    #readable; #writable;
    constructor(transformer = {}, writableStrategy = {}, readableStrategy = {}) {
      if (transformer === null) transformer = {};
      let rc;
      this.#readable = new ReadableStream({ start(c) { rc = c; } }, readableStrategy);
      const controller = {
        enqueue: (chunk) => rc.enqueue(chunk),
        error: (e) => { rc.error(e); },
        terminate: () => { try { rc.close(); } catch (_) {} },
        get desiredSize() { return rc.desiredSize; },
      };
      this.#writable = new WritableStream({
        start: () => (typeof transformer.start === "function" ? transformer.start(controller) : undefined),
        write: (chunk) => (typeof transformer.transform === "function" ? transformer.transform(chunk, controller) : controller.enqueue(chunk)),
        close: async () => {
          if (typeof transformer.flush === "function") await transformer.flush(controller);
          try { rc.close(); } catch (_) {}
        },
        abort: (reason) => rc.error(reason),
      }, writableStrategy);
    }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
  }

  class TextEncoderStream extends TransformStream {
    constructor() {
      super({ transform(chunk, c) { const b = enc(chunk); if (b.byteLength) c.enqueue(b); } });
    }
    get encoding() { return "utf-8"; }
  }

  class TextDecoderStream extends TransformStream {
    #d;
    constructor(label = "utf-8", options = {}) {
      const d = new TextDecoder(label, options);
      super({
        transform(chunk, c) { const s = d.decode(chunk, { stream: true }); if (s) c.enqueue(s); },
        flush(c) { const s = d.decode(); if (s) c.enqueue(s); },
      });
      this.#d = d;
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this.#d.fatal; }
    get ignoreBOM() { return this.#d.ignoreBOM; }
  }

  // ---- Bodies, Request, Response -------------------------------------------

  // extractBody returns [bytes, string, stream or null, content type or
  // null]. A string body stays a string until its bytes are needed: the
  // engine encodes it straight into the wire.
  function extractBody(body) {
    if (body == null) return [null, null];
    if (typeof body === "string") return [body, "text/plain;charset=UTF-8"];
    if (isBufferSource(body)) return [copyBytes(body), null];
    if (body instanceof Blob) return [Blob._bytes(body), body.type || null];
    if (body instanceof URLSearchParams) return [enc(body.toString()), "application/x-www-form-urlencoded;charset=UTF-8"];
    if (body instanceof FormData) {
      const entries = FormData._entries(body).map(([k, v]) => typeof v === "string"
        ? [k, v, null, null] : [k, Blob._bytes(v), v.name, v.type]);
      const [type, buf] = native.multipartEncode(entries);
      return [new Uint8Array(buf), type];
    }
    if (body instanceof ReadableStream) {
      if (body.locked || body._disturbed) throw new TypeError("The body stream is locked or already read");
      return [body, null];
    }
    return [enc(String(body)), "text/plain;charset=UTF-8"];
  }

  function chunkBytes(value) {
    if (value instanceof Uint8Array) return value;
    if (isBufferSource(value)) return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (typeof value === "string") return enc(value);
    throw new TypeError("This ReadableStream did not return bytes.");
  }

  async function readAll(stream) {
    const reader = stream.getReader();
    const parts = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(chunkBytes(value));
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  // Module-private access to bodies (set in Body's static block).
  let bodyInit, bodySet, bodyBytes, bodyRawSource;

  class Body {
    #src = null; // Uint8Array, string, ReadableStream or null
    #used = false;
    _initBody(body, headers) {
      const [src, type] = extractBody(body);
      this.#src = src;
      if (type !== null && !headers.has("content-type")) headers.set("content-type", type);
    }
    static {
      // bodyInit is _initBody for the constructors: headers is their own
      // Headers; jsonType makes a string body application/json.
      bodyInit = (b, body, headers, jsonType) => {
        if (body == null) return;
        if (typeof body === "string") {
          b.#src = body;
          headersSetDefault(headers, "content-type", jsonType ? "application/json" : "text/plain;charset=UTF-8");
          return;
        }
        const [src, type] = extractBody(body);
        b.#src = src;
        if (type !== null) headersSetDefault(headers, "content-type", normValue(type));
      };
      // bodyBytes turns a string source into its bytes, once.
      bodyBytes = (b) => {
        if (typeof b.#src === "string") b.#src = enc(b.#src);
        return b.#src;
      };
      bodyRawSource = (b) => b.#src;
      bodySet = (b, src) => { b.#src = src; };
    }
    get body() {
      if (this.#src === null) return null;
      if (!(this.#src instanceof ReadableStream)) {
        const s = bytesStream(bodyBytes(this));
        if (this.#used) s.cancel();
        this.#src = s;
      }
      return this.#src;
    }
    get bodyUsed() { return this.#used || (this.#src instanceof ReadableStream && this.#src._disturbed); }
    async #consume() {
      if (this.bodyUsed) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      this.#used = true;
      if (this.#src === null) return new Uint8Array(0);
      if (this.#src instanceof ReadableStream) {
        if (this.#src.locked) throw new TypeError("The body stream is locked");
        return readAll(this.#src);
      }
      return bodyBytes(this);
    }
    // #read is #consume(then) without async machinery when the body is
    // already in memory, as it is for every incoming request: a settled
    // promise instead of two generators and their awaits.
    #read(then) {
      if (this.#src instanceof ReadableStream || this.bodyUsed) return this.#consume().then(then);
      this.#used = true;
      try {
        return Promise.resolve(then(this.#src === null ? new Uint8Array(0) : bodyBytes(this)));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    arrayBuffer() { return this.#read(toAB); }
    bytes() { return this.#read(copyOut); }
    text() { return this.#read(dec); }
    json() { return this.#read(parseJSON); }
    async blob() {
      const b = await this.#consume();
      return new Blob([b], { type: this.headers.get("content-type") || "" });
    }
    async formData() {
      const type = this.headers.get("content-type") || "";
      const mime = type.split(";")[0].trim().toLowerCase();
      const b = await this.#consume();
      const fd = new FormData();
      if (mime === "application/x-www-form-urlencoded") {
        const pairs = native.formParse(b);
        for (let i = 0; i < pairs.length; i += 2) fd.append(pairs[i], pairs[i + 1]);
        return fd;
      }
      if (mime === "multipart/form-data") {
        for (const p of native.multipartParse(type, b)) {
          if (p.filename === undefined) fd.append(p.name, p.value);
          else fd.append(p.name, new File([p.data], p.filename, { type: p.type }));
        }
        return fd;
      }
      throw new TypeError("Unrecognized Content-Type header value. FormData can only parse application/x-www-form-urlencoded and multipart/form-data.");
    }
    // _cloneBody gives this and the clone independent bodies.
    _cloneBody() {
      if (this.bodyUsed) throw new TypeError("Cannot clone a body that has already been used");
      if (this.#src instanceof ReadableStream) {
        const [a, b] = this.#src.tee();
        this.#src = a;
        return b;
      }
      return bodyBytes(this);
    }
    _source() { return bodyBytes(this); }
    _markUsed() { this.#used = true; }
  }

  const normalMethods = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];

  let requestFromGo;

  class Request extends Body {
    #method = "GET"; #url; #headers; #redirect = "follow"; #signal; #cf;
    #pairs = null; // header pairs from Go, until headers is first read
    constructor(input, init = {}) {
      super();
      if (input === INTERNAL) return; // requestFromGo
      if (init === null || init === undefined) init = {};
      let body = init.body, src = null;
      if (input instanceof Request) {
        this.#url = input.url;
        this.#method = input.method;
        this.#headers = new Headers(input.headers);
        this.#redirect = input.redirect;
        this.#signal = input.signal;
        this.#cf = input.cf;
        if (body === undefined && input._source() !== null) {
          if (input.bodyUsed) throw new TypeError("Cannot construct a Request with a Request whose body has already been used");
          src = input._source();
          input._markUsed();
        }
      } else {
        this.#url = new URL(String(input)).href;
        this.#headers = new Headers();
      }
      if (init.method !== undefined) {
        const m = String(init.method);
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(m)) throw new TypeError("Invalid method: " + m);
        const up = m.toUpperCase();
        if (["CONNECT", "TRACE", "TRACK"].includes(up)) throw new TypeError("Forbidden method: " + m);
        this.#method = normalMethods.includes(up) ? up : m;
      }
      if (init.headers !== undefined) this.#headers = new Headers(init.headers);
      if (init.redirect !== undefined) {
        if (!["follow", "manual", "error"].includes(init.redirect)) throw new TypeError("Invalid redirect mode: " + init.redirect);
        this.#redirect = init.redirect;
      }
      if (init.signal !== undefined) this.#signal = init.signal;
      if (init.cf !== undefined) this.#cf = init.cf;
      if ((body != null || src !== null) && (this.#method === "GET" || this.#method === "HEAD")) {
        throw new TypeError("Request with GET/HEAD method cannot have body.");
      }
      bodyInit(this, src !== null ? src : body, this.#headers, false);
    }
    static {
      // requestFromGo builds the request a handler gets from what the
      // engine already checked and normalised (engine.go, goRequest): an
      // absolute href, the method, lower-cased header names with valid
      // values, and the body's bytes or null. Headers are built on first
      // read; most handlers never look.
      requestFromGo = (url, method, pairs, body) => {
        const r = new Request(INTERNAL);
        r.#url = url;
        r.#method = method;
        r.#pairs = pairs;
        if (body !== null) bodySet(r, new U8(body)); // a view of the engine's own copy
        return r;
      };
    }
    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() {
      if (this.#pairs !== null) {
        this.#headers = headersFromPairs(this.#pairs);
        this.#pairs = null;
      }
      return this.#headers;
    }
    get redirect() { return this.#redirect; }
    get signal() { return this.#signal || (this.#signal = new AbortSignal(INTERNAL)); }
    get cf() { return this.#cf; }
    get integrity() { return ""; }
    get keepalive() { return false; }
    clone() {
      const b = this._cloneBody();
      if (this.#pairs !== null) void this.headers;
      return new Request(this.#url, { method: this.#method, headers: this.#headers, body: b, redirect: this.#redirect, signal: this.#signal, cf: this.#cf });
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }

  const JSON_BODY = Symbol("json body"); // Response.json's constructor token
  let defaultContentType;
  const nullBodyStatus = (s) => s === 101 || s === 204 || s === 205 || s === 304;
  const redirectStatus = [301, 302, 303, 307, 308];

  class Response extends Body {
    #status; #statusText; #headers; #ctype = null; #type = "default"; #url = ""; #redirected = false;
    constructor(body = null, init = {}, internal = undefined) {
      super();
      if (init === null || init === undefined) init = {};
      const status = init.status === undefined ? 200 : Number(init.status);
      if (internal !== INTERNAL && (!Number.isInteger(status) || status < 200 || status > 599)) {
        throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive. Got ${init.status}.`);
      }
      const statusText = init.statusText === undefined ? "" : String(init.statusText);
      if (statusText !== "" && /[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError("Invalid statusText");
      if (body != null && nullBodyStatus(status)) {
        throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
      }
      this.#status = status;
      this.#statusText = statusText;
      const headers = init.headers;
      if (headers === undefined && (body === null || body === undefined || typeof body === "string")) {
        // Most responses: no headers but the default content type. Their
        // Headers object is built only if the script reads it.
        this.#headers = null;
        if (body != null) {
          bodySet(this, body);
          this.#ctype = internal === JSON_BODY ? "application/json" : "text/plain;charset=UTF-8";
        }
        return;
      }
      this.#headers = new Headers(headers);
      bodyInit(this, body, this.#headers, internal === JSON_BODY);
    }
    static {
      // defaultContentType is the content type of a Response whose
      // headers were never built, or undefined once they exist.
      defaultContentType = (r) => (r.#headers === null ? r.#ctype : undefined);
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status < 300; }
    get headers() {
      if (this.#headers === null) {
        const h = new Headers();
        if (this.#ctype !== null) headersSetDefault(h, "content-type", this.#ctype);
        this.#headers = h;
      }
      return this.#headers;
    }
    get redirected() { return this.#redirected; }
    get url() { return this.#url; }
    get type() { return this.#type; }
    get webSocket() { return null; }
    clone() {
      const r = new Response(this._cloneBody(), { status: this.#status, statusText: this.#statusText, headers: this.headers }, INTERNAL);
      r.#type = this.#type; r.#url = this.#url; r.#redirected = this.#redirected;
      return r;
    }
    static json(data, init = {}) {
      const body = JSON.stringify(data);
      if (body === undefined) throw new TypeError("Response.json: the value cannot be serialized to JSON");
      return new Response(body, init, JSON_BODY);
    }
    static redirect(url, status = 302) {
      status = Number(status);
      if (!redirectStatus.includes(status)) throw new RangeError("Invalid status code for a redirect: " + status);
      return new Response(null, { status, headers: { location: new URL(String(url)).href } });
    }
    static error() {
      const r = new Response(null, { status: 0 }, INTERNAL);
      r.#type = "error";
      return r;
    }
    static _fromFetch(r) {
      const h = new Headers();
      for (let i = 0; i + 1 < r.headers.length; i += 2) h.append(r.headers[i], r.headers[i + 1]);
      const body = nullBodyStatus(r.status) ? null : new Uint8Array(r.body);
      const resp = new Response(body, { status: r.status, statusText: r.statusText, headers: h }, INTERNAL);
      resp.#url = r.url;
      resp.#redirected = r.redirected;
      resp.#type = "basic";
      return resp;
    }
    get [Symbol.toStringTag]() { return "Response"; }
  }

  async function fetch(input, init = undefined) {
    const req = new Request(input, init);
    const signal = init && init.signal !== undefined ? init.signal : input instanceof Request ? input.signal : undefined;
    if (signal && signal.aborted) throw signal.reason;
    const src = req._source();
    let body = null;
    if (src !== null) body = await req.arrayBuffer();
    const p = native.fetch(req.method, req.url, headerPairs(req.headers), body, req.redirect);
    let r;
    if (signal) {
      r = await new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        p.then((v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
          (e) => { signal.removeEventListener("abort", onAbort); reject(e); });
      });
    } else {
      r = await p;
    }
    return Response._fromFetch(r);
  }

  // ---- crypto ---------------------------------------------------------------

  const hashNames = { "SHA-1": 1, "SHA-256": 1, "SHA-384": 1, "SHA-512": 1, "MD5": 1 };
  const hashBlock = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024, "MD5": 512 };
  function algName(alg) {
    const n = typeof alg === "string" ? alg : alg && alg.name;
    if (typeof n !== "string") throw new TypeError("Algorithm: name is required");
    return n.toUpperCase();
  }
  function hashName(h) {
    const n = algName(h);
    if (!hashNames[n]) throw new DOMException("Unrecognized hash algorithm: " + n, "NotSupportedError");
    return n;
  }
  function bufferSource(v, what) {
    if (!isBufferSource(v)) throw new TypeError(what + " must be an ArrayBuffer or an ArrayBuffer view");
    return v;
  }

  class CryptoKey {
    #type; #extractable; #algorithm; #usages; #raw;
    constructor(token, algorithm, extractable, usages, raw) {
      if (token !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#type = "secret";
      this.#algorithm = algorithm;
      this.#extractable = !!extractable;
      this.#usages = usages;
      this.#raw = raw;
    }
    get type() { return this.#type; }
    get extractable() { return this.#extractable; }
    get algorithm() { return { ...this.#algorithm, hash: { ...this.#algorithm.hash } }; }
    get usages() { return this.#usages.slice(); }
    static _raw(k) { return k.#raw; }
    static _hash(k) { return k.#algorithm.hash.name; }
    static _can(k, use) { return k.#usages.includes(use); }
    get [Symbol.toStringTag]() { return "CryptoKey"; }
  }

  function hmacKey(key, op) {
    if (!(key instanceof CryptoKey)) throw new TypeError("key must be a CryptoKey");
    if (!CryptoKey._can(key, op)) throw new DOMException(`The key does not allow "${op}"`, "InvalidAccessError");
    return key;
  }

  const subtle = {
    async digest(algorithm, data) {
      const name = hashName(algorithm);
      return native.digest(name, bufferSource(data, "data"));
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (format !== "raw") throw new DOMException(`Unsupported key format "${format}": only "raw" HMAC keys`, "NotSupportedError");
      if (algName(algorithm) !== "HMAC") throw new DOMException("Unsupported algorithm: only HMAC", "NotSupportedError");
      const hash = hashName(algorithm.hash);
      const raw = copyBytes(bufferSource(keyData, "keyData"));
      if (raw.byteLength === 0) throw new DOMException("HMAC key must not be empty", "DataError");
      for (const u of usages) if (u !== "sign" && u !== "verify") throw new SyntaxError("Invalid key usage for HMAC: " + u);
      const length = algorithm.length !== undefined ? Number(algorithm.length) : raw.byteLength * 8;
      return new CryptoKey(INTERNAL, { name: "HMAC", hash: { name: hash }, length }, extractable, Array.from(usages), raw);
    },
    async generateKey(algorithm, extractable, usages) {
      if (algName(algorithm) !== "HMAC") throw new DOMException("Unsupported algorithm: only HMAC", "NotSupportedError");
      const hash = hashName(algorithm.hash);
      const bits = algorithm.length !== undefined ? Number(algorithm.length) : hashBlock[hash];
      const raw = new Uint8Array(Math.ceil(bits / 8));
      native.randomFill(raw);
      return new CryptoKey(INTERNAL, { name: "HMAC", hash: { name: hash }, length: bits }, extractable, Array.from(usages), raw);
    },
    async exportKey(format, key) {
      if (format !== "raw") throw new DOMException(`Unsupported key format "${format}"`, "NotSupportedError");
      if (!(key instanceof CryptoKey)) throw new TypeError("key must be a CryptoKey");
      if (!key.extractable) throw new DOMException("The key is not extractable", "InvalidAccessError");
      return toAB(CryptoKey._raw(key));
    },
    async sign(algorithm, key, data) {
      if (algName(algorithm) !== "HMAC") throw new DOMException("Unsupported algorithm: only HMAC", "NotSupportedError");
      hmacKey(key, "sign");
      return native.hmac(CryptoKey._hash(key), CryptoKey._raw(key), bufferSource(data, "data"));
    },
    async verify(algorithm, key, signature, data) {
      if (algName(algorithm) !== "HMAC") throw new DOMException("Unsupported algorithm: only HMAC", "NotSupportedError");
      hmacKey(key, "verify");
      return native.hmacVerify(CryptoKey._hash(key), CryptoKey._raw(key), bufferSource(signature, "signature"), bufferSource(data, "data"));
    },
    timingSafeEqual(a, b) {
      bufferSource(a, "a"); bufferSource(b, "b");
      if (a.byteLength !== b.byteLength) throw new TypeError("Input buffers must have the same byte length");
      return native.timingSafeEqual(a, b);
    },
  };

  const intArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    typeof BigInt64Array === "function" ? BigInt64Array : null, typeof BigUint64Array === "function" ? BigUint64Array : null].filter(Boolean);
  const crypto = {
    subtle,
    getRandomValues(array) {
      if (!intArrays.some((T) => array instanceof T)) {
        throw new DOMException("getRandomValues needs an integer typed array", "TypeMismatchError");
      }
      if (array.byteLength > 65536) {
        throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
      }
      native.randomFill(array);
      return array;
    },
    randomUUID() { return native.randomUUID(); },
  };

  // ---- structuredClone ------------------------------------------------------

  const errorCtors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  function structuredClone(value, options = undefined) {
    const memo = new Map();
    const fail = (what) => { throw new DOMException(`${what} could not be cloned.`, "DataCloneError"); };
    const clone = (v) => {
      if (typeof v === "symbol") fail("Symbol()");
      if (typeof v === "function") fail(v.name ? `function ${v.name}` : "function");
      if (v === null || typeof v !== "object") return v;
      if (memo.has(v)) return memo.get(v);
      let out;
      if (Array.isArray(v)) {
        out = new Array(v.length);
        memo.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) {
        const buf = clone(v.buffer);
        out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
      } else if (v instanceof Map) {
        out = new Map();
        memo.set(v, out);
        for (const [k, x] of v) out.set(clone(k), clone(x));
        return out;
      } else if (v instanceof Set) {
        out = new Set();
        memo.set(v, out);
        for (const x of v) out.add(clone(x));
        return out;
      } else if (v instanceof Error) {
        const C = errorCtors[v.name] || Error;
        out = new C(v.message);
        if (v.stack !== undefined) Object.defineProperty(out, "stack", { value: v.stack, writable: true, configurable: true });
      } else if (v instanceof File) out = new File([v], v.name, { type: v.type, lastModified: v.lastModified });
      else if (v instanceof Blob) out = v.slice(0, v.size, v.type);
      else if (v instanceof Boolean || v instanceof Number || v instanceof String) out = Object(v.valueOf());
      else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || v instanceof ReadableStream ||
        v instanceof WritableStream || v instanceof Request || v instanceof Response || v instanceof Headers ||
        v instanceof CryptoKey || v instanceof URL) {
        fail(Object.prototype.toString.call(v));
      } else {
        out = {};
        memo.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      memo.set(v, out);
      return out;
    };
    if (arguments.length === 0) throw new TypeError("structuredClone requires 1 argument");
    void options;
    return clone(value);
  }

  // ---- console, timers, scheduler ------------------------------------------

  function show(a, seen) {
    if (typeof a === "string") return a;
    if (a === undefined) return "undefined";
    if (typeof a === "function") return `[Function: ${a.name || "(anonymous)"}]`;
    if (typeof a === "symbol" || typeof a === "bigint") return String(a);
    if (a instanceof Error) return a.stack || String(a);
    if (a instanceof Map) return `Map(${a.size}) {${Array.from(a, ([k, v]) => ` ${show(k, seen)} => ${show(v, seen)}`).join(",")} }`;
    if (a instanceof Set) return `Set(${a.size}) {${Array.from(a, (v) => " " + show(v, seen)).join(",")} }`;
    if (a instanceof URL) return `URL ${a.href}`;
    if (a instanceof Headers) return `Headers ${JSON.stringify(Object.fromEntries(a))}`;
    try { return JSON.stringify(a) ?? String(a); } catch (_) { return String(a); }
  }
  const fmt = (args) => args.map((a) => show(a)).join(" ");
  const console = {};
  const levels = { debug: "debug", trace: "debug", info: "info", log: "info", warn: "warn", error: "error" };
  for (const [name, level] of Object.entries(levels)) {
    console[name] = (...args) => native.log(level, fmt(args));
  }
  console.assert = (cond, ...args) => { if (!cond) native.log("error", "Assertion failed" + (args.length ? ": " + fmt(args) : "")); };
  const timers = new Map();
  console.time = (label = "default") => { timers.set(label, Date.now()); };
  console.timeEnd = (label = "default") => {
    if (timers.has(label)) native.log("info", `${label}: ${Date.now() - timers.get(label)}ms`);
    timers.delete(label);
  };
  console.table = console.log;
  console.dir = console.log;

  // Intervals are re-armed timeouts; clearTimeout and clearInterval share
  // one id space, as in the standard.
  const rawSetTimeout = global.setTimeout, rawClearTimeout = global.clearTimeout;
  const intervals = new Map(); // interval id -> current timeout id
  function setInterval(fn, ms = 0, ...args) {
    if (typeof fn !== "function") throw new TypeError("setInterval: callback is not a function");
    let id;
    const tick = () => {
      if (!intervals.has(id)) return;
      intervals.set(id, rawSetTimeout(tick, ms));
      fn(...args);
    };
    id = rawSetTimeout(tick, ms);
    intervals.set(id, id);
    return id;
  }
  function clearTimer(id) {
    if (intervals.has(id)) {
      rawClearTimeout(intervals.get(id));
      intervals.delete(id);
    } else if (typeof id === "number") {
      rawClearTimeout(id);
    }
  }
  const scheduler = {
    wait(ms, options = {}) {
      return new Promise((resolve, reject) => {
        const signal = options && options.signal;
        if (signal && signal.aborted) { reject(signal.reason); return; }
        const t = rawSetTimeout(resolve, Number(ms) || 0);
        if (signal) signal.addEventListener("abort", () => { rawClearTimeout(t); reject(signal.reason); }, { once: true });
      });
    },
  };
  const timeOrigin = Date.now();
  const performance = { timeOrigin, now: () => Date.now() - timeOrigin };

  // ---- Dates in UTC ---------------------------------------------------------
  // goja computes local time with the process time zone; scripts must see
  // UTC whatever TZ the node has, as in Workers.

  const OrigDate = Date;
  const proto = OrigDate.prototype;
  const origOffset = proto.getTimezoneOffset;
  const zoned = /(?:Z|[+-]\d\d:?\d\d|\b(?:GMT|UTC|UT)\b.*)\s*(?:\([^)]*\))?\s*$/i;
  const dateOnly = /^\s*[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?\s*$/;
  function parseUTC(s) {
    s = String(s);
    const t = OrigDate.parse(s);
    if (Number.isNaN(t) || zoned.test(s) || dateOnly.test(s)) return t;
    return t - origOffset.call(new OrigDate(t)) * 60000;
  }
  function UTCDate(...args) {
    if (new.target === undefined) return new UTCDate().toString();
    let v = args;
    if (args.length >= 2) v = [OrigDate.UTC(...args)];
    else if (args.length === 1 && typeof args[0] === "string") v = [parseUTC(args[0])];
    return Reflect.construct(OrigDate, v, new.target);
  }
  Object.defineProperty(UTCDate, "prototype", { value: proto });
  define(proto, { constructor: UTCDate });
  define(UTCDate, { now: OrigDate.now, UTC: OrigDate.UTC, parse: parseUTC });
  for (const n of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
    define(proto, { ["get" + n]: proto["getUTC" + n] });
    if (n !== "Day") define(proto, { ["set" + n]: proto["setUTC" + n] });
  }
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n) => String(n).padStart(2, "0");
  const valid = (d) => !Number.isNaN(d.getTime());
  const yearStr = (y) => (y < 0 ? "-" + String(-y).padStart(6, "0") : String(y).padStart(4, "0"));
  const dateStr = (d) => `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${yearStr(d.getUTCFullYear())}`;
  const timeStr = (d) => `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT+0000 (Coordinated Universal Time)`;
  const h12 = (d) => `${(d.getUTCHours() % 12) || 12}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? "AM" : "PM"}`;
  const ymd = (d) => `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
  define(proto, {
    getTimezoneOffset() { return valid(this) ? 0 : NaN; },
    getYear() { return this.getUTCFullYear() - 1900; },
    toString() { return valid(this) ? `${dateStr(this)} ${timeStr(this)}` : "Invalid Date"; },
    toDateString() { return valid(this) ? dateStr(this) : "Invalid Date"; },
    toTimeString() { return valid(this) ? timeStr(this) : "Invalid Date"; },
    toLocaleString() { return valid(this) ? `${ymd(this)}, ${h12(this)}` : "Invalid Date"; },
    toLocaleDateString() { return valid(this) ? ymd(this) : "Invalid Date"; },
    toLocaleTimeString() { return valid(this) ? h12(this) : "Invalid Date"; },
  });

  Object.assign(global, {
    DOMException, Event, EventTarget, AbortController, AbortSignal,
    TextEncoder, TextDecoder, TextEncoderStream, TextDecoderStream, atob, btoa,
    URL, URLSearchParams, Headers, Request, Response, Blob, File, FormData, fetch,
    ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
    WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStream,
    CryptoKey, crypto, structuredClone, console, scheduler, performance,
    setInterval, clearInterval: clearTimer, clearTimeout: clearTimer,
    navigator: { userAgent: "Cloudflare-Workers", hardwareConcurrency: 1 },
    Date: UTCDate,
  });
  global.self = global;

  // ---- hooks for the Go side, kept off the global object ----------------------

  let waits = [];
  // KVNamespace gives a kv binding the Workers KV API over the node's
  // native store methods (_get, _put, _delete, _list), which take and give
  // bytes and JSON text so that conversions by type happen here.
  const kvTypes = ["text", "json", "arrayBuffer", "stream"];
  function kvType(opt) {
    const type = opt == null ? "text" : typeof opt === "string" ? opt : (opt.type ?? "text");
    if (!kvTypes.includes(type)) throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
    return type;
  }
  function kvDecode(bytes, type) {
    if (bytes == null) return null;
    const u8 = new Uint8Array(bytes);
    switch (type) {
      case "text": return dec(u8);
      case "json": return JSON.parse(dec(u8));
      case "arrayBuffer": return toAB(u8);
      default: return bytesStream(u8);
    }
  }
  async function kvEncode(value) {
    if (typeof value === "string") return enc(value);
    if (isBufferSource(value)) return copyBytes(value);
    if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
    throw new TypeError("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.");
  }
  const kvNative = new WeakMap();
  class KVNamespace {
    constructor(token, native) {
      if (token !== INTERNAL) throw new TypeError("Illegal constructor");
      kvNative.set(this, native);
    }
    async get(key, opt) {
      const type = kvType(opt);
      const [bytes] = await kvNative.get(this)._get(String(key));
      return kvDecode(bytes, type);
    }
    async getWithMetadata(key, opt) {
      const type = kvType(opt);
      const [bytes, meta] = await kvNative.get(this)._get(String(key));
      return { value: kvDecode(bytes, type), metadata: meta == null ? null : JSON.parse(meta), cacheStatus: null };
    }
    async put(key, value, options = {}) {
      const bytes = await kvEncode(value);
      const o = options ?? {};
      const meta = o.metadata === undefined ? null : JSON.stringify(o.metadata);
      await kvNative.get(this)._put(String(key), bytes, Number(o.expiration ?? 0), Number(o.expirationTtl ?? 0), meta);
    }
    async delete(key) { await kvNative.get(this)._delete(String(key)); }
    async list(options = {}) {
      const o = options ?? {};
      const page = JSON.parse(await kvNative.get(this)._list(String(o.prefix ?? ""), Number(o.limit ?? 1000), String(o.cursor ?? "")));
      page.cacheStatus = null;
      return page;
    }
    // collection is the original PiCloud's handle style: JSON values in a
    // named collection, stored as keys "<name>:<key>" of this namespace.
    collection(name) {
      const ns = this, prefix = String(name) + ":";
      if (!name || String(name).includes(":")) throw new TypeError("collection names must be non-empty and contain no ':'");
      return Object.freeze({
        get: (key) => ns.get(prefix + key, "json"),
        set: (key, value, options) => ns.put(prefix + key, JSON.stringify(value), options),
        has: async (key) => (await ns.get(prefix + key, "arrayBuffer")) !== null,
        delete: (key) => ns.delete(prefix + key),
        list: async (o = {}) => {
          const page = await ns.list({ ...o, prefix: prefix + (o.prefix ?? "") });
          page.keys = page.keys.map((k) => ({ ...k, name: k.name.slice(prefix.length) }));
          return page;
        },
      });
    }
  }
  Object.defineProperty(KVNamespace.prototype, Symbol.toStringTag, { value: "KVNamespace" });

  // waitAll settles once every waitUntil promise has (including ones added
  // meanwhile), or is null when there are none.
  function waitAll() {
    if (waits.length === 0) return null;
    const ws = waits;
    waits = [];
    return Promise.allSettled(ws).then((rs) => {
      for (const r of rs) if (r.status === "rejected") reportError(r.reason);
      return waitAll();
    });
  }
  // ctx's methods are shared by every execution (and frozen): waits is
  // per execution, reset by the engine; native.waited tells the engine
  // there is work to wait for after the response.
  const { waitUntil, passThroughOnException } = {
    waitUntil(p) { waits.push(Promise.resolve(p)); native.waited(); },
    passThroughOnException() {},
  };
  Object.freeze(waitUntil);
  Object.freeze(passThroughOnException);
  const apply = Reflect.apply;
  const noScheduled = Object.freeze({});
  return {
    // newRequest is the general path, for requests the engine could not
    // check itself: it throws what new Request would.
    newRequest(url, method, pairs, body) {
      const h = new Headers();
      for (let i = 0; i < pairs.length; i += 2) h.append(pairs[i], pairs[i + 1]);
      const noBody = body === null || method === "GET" || method === "HEAD";
      return new Request(url, { method, headers: h, body: noBody ? undefined : new Uint8Array(body) });
    },
    // begin calls the handler: one call into JS per execution. req is a
    // Request, or null to build it with requestFromGo from the rest.
    begin(fetch, handler, env, params, requestId, executionId, req, url, method, pairs, body) {
      if (req === null) req = requestFromGo(url, method, pairs, body);
      const ctx = { params, requestId, executionId, waitUntil, passThroughOnException };
      return apply(fetch, handler, [req, env, ctx]);
    },
    // scheduled calls a cron trigger's handler (runtime/scheduled.go),
    // or returns noScheduled when the default export has none.
    scheduled(handler, env, cron, scheduledTime, requestId, executionId) {
      const fn = handler.scheduled;
      if (typeof fn !== "function") return noScheduled;
      const event = { type: "scheduled", cron, scheduledTime, noRetry() {} };
      const ctx = { requestId, executionId, waitUntil, passThroughOnException };
      return apply(fn, handler, [event, env, ctx]);
    },
    noScheduled,
    waitAll,
    reset() { waits = []; intervals.clear(); },
    // unwrapResponse hands a Response to the engine with
    // native.setResponse(status, header pairs, body, stream reader,
    // content type) where body is a string, bytes or null, and the pairs
    // are null when the content type is the only header; it returns false
    // for anything else.
    unwrapResponse(r) {
      if (!(r instanceof Response)) return false;
      if (r.type === "error") throw new TypeError("Response.error() cannot be returned from a fetch handler");
      const src = bodyRawSource(r);
      if (src instanceof ReadableStream) {
        if (r.bodyUsed || src.locked) throw new TypeError("The response body has already been used");
        native.setResponse(r.status, headerPairs(r.headers), null, src.getReader());
      } else {
        const ctype = defaultContentType(r);
        if (ctype !== undefined) native.setResponse(r.status, null, src, null, ctype);
        else native.setResponse(r.status, headerPairs(r.headers), src, null, null);
      }
      return true;
    },
    // nextChunk resolves to the next chunk of bytes, or null at the end.
    nextChunk(reader) {
      return reader.read().then(({ value, done }) => (done ? null : chunkBytes(value)));
    },
    cancelStream(reader, reason) { reader.cancel(reason).catch(() => {}); },
    reportError,
    wrapKV(native) { return new KVNamespace(INTERNAL, native); },
  };
})
