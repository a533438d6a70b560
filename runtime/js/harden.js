// Runs once per runtime after the prelude and before the script's module:
// puts size guards on built-ins that allocate in one native call (which
// goja's Interrupt cannot stop midway), then freezes every intrinsic
// reachable from the global object so that a script cannot tamper with
// what its next execution sees. `g` holds Go natives: limit() is the
// current execution's memory limit in bytes, hit(what, n) stops the
// execution with a memory limit error.
(function (global, g) {
  "use strict";
  const apply = Reflect.apply, construct = Reflect.construct, defineProperty = Object.defineProperty;
  const getOwn = Object.getOwnPropertyDescriptor, ownKeys = Reflect.ownKeys, getProto = Object.getPrototypeOf;
  const freezeObj = Object.freeze, isFrozen = Object.isFrozen;
  const toLen = (v) => { const n = Math.trunc(Number(v)); return n > 0 ? n : 0; };
  const check = (what, bytes) => { if (bytes > g.limit()) { g.hit(what, bytes); throw new RangeError(what + ": allocation too large"); } };
  const SLOT = 16; // bytes per array element (a goja Value)

  function wrap(obj, name, fn) {
    defineProperty(obj, name, { value: fn, writable: true, enumerable: false, configurable: true });
  }
  const SP = String.prototype, AP = Array.prototype;
  const repeat = SP.repeat, padStart = SP.padStart, padEnd = SP.padEnd, join = AP.join, fill = AP.fill, from = Array.from;
  wrap(SP, "repeat", { repeat(count) { check("String.prototype.repeat", String(this).length * toLen(count)); return apply(repeat, this, arguments); } }.repeat);
  wrap(SP, "padStart", { padStart(n) { check("String.prototype.padStart", toLen(n)); return apply(padStart, this, arguments); } }.padStart);
  wrap(SP, "padEnd", { padEnd(n) { check("String.prototype.padEnd", toLen(n)); return apply(padEnd, this, arguments); } }.padEnd);
  wrap(AP, "join", {
    join(sep) {
      const len = toLen(this.length);
      if (len > 1) {
        let sample = 0;
        const k = len < 16 ? len : 16;
        for (let i = 0; i < k; i++) { const v = this[i]; sample += v == null ? 0 : typeof v === "string" ? v.length : 8; }
        check("Array.prototype.join", (len - 1) * (sep === undefined ? 1 : String(sep).length) + (sample / k) * len);
      }
      return apply(join, this, arguments);
    },
  }.join);
  wrap(AP, "fill", {
    fill(value, start, end) {
      const len = toLen(this.length);
      let s = start === undefined ? 0 : Math.trunc(Number(start)) || 0;
      let e = end === undefined ? len : Math.trunc(Number(end)) || 0;
      s = s < 0 ? Math.max(len + s, 0) : Math.min(s, len);
      e = e < 0 ? Math.max(len + e, 0) : Math.min(e, len);
      check("Array.prototype.fill", (e - s) * SLOT);
      return apply(fill, this, arguments);
    },
  }.fill);
  wrap(Array, "from", {
    from(items) {
      if (items != null && typeof items[Symbol.iterator] !== "function") check("Array.from", toLen(items.length) * SLOT);
      return apply(from, this, arguments);
    },
  }.from);

  // replace and replaceAll: one native call whose output (and list of
  // matches, which goja builds before replacing) can be far larger than
  // any argument. A cheap upper bound is checked first; only when it is
  // over the limit are the matches counted (a global regexp is run once
  // more, stopping as soon as the count is too many). A replacer
  // function's results are summed as they come. Arguments are converted
  // once, in the standard order, and the originals get the results.
  const MATCH = 64; // bytes goja keeps per match while replacing
  const RP = RegExp.prototype, rxReplace = RP[Symbol.replace];
  const strReplace = SP.replace, strReplaceAll = SP.replaceAll, indexOf = SP.indexOf;
  // replBytes bounds what one replacement string adds: [per match, per
  // call]. $` and $' insert up to the whole string at every match; $&,
  // $n and $<name> insert parts of matches, at most the string in all.
  function replBytes(r, len) {
    let perMatch = r.length, total = 0;
    for (let i = apply(indexOf, r, ["$"]); i >= 0 && i + 1 < r.length; i = apply(indexOf, r, ["$", i + 2])) {
      const c = r[i + 1];
      if (c === "`" || c === "'") perMatch += len;
      else if (c !== "$") total += len;
    }
    return [perMatch, total];
  }
  // guardFn wraps a replacer function to sum the length of its results.
  function guardFn(what, fn, base) {
    let out = base;
    return function () {
      const r = String(apply(fn, undefined, arguments));
      out += r.length + MATCH;
      check(what, out);
      return r;
    };
  }
  // countMatches bounds the number of matches of a global regexp in s,
  // stopping at the first count over the limit (so its cost is bounded
  // like the replacement's). An empty match may be counted twice: it
  // never undercounts. (split would count in Go, but goja's split finds
  // every match before applying its limit.)
  function countMatches(rx, s, base, per) {
    const c = new RegExp(rx.source, rx.flags), lim = g.limit();
    let n = 0, last = -1;
    while (c.test(s)) {
      if (++n * per + base > lim) return n;
      if (c.lastIndex === last) c.lastIndex++;
      last = c.lastIndex;
    }
    return n;
  }
  // countString is the number of matches of search in s (at most one
  // unless all), stopping at the first count over the limit.
  function countString(s, search, all, base, per) {
    if (!all) return apply(indexOf, s, [search]) < 0 ? 0 : 1;
    if (search === "") return s.length + 1;
    const lim = g.limit();
    let n = 0;
    for (let i = apply(indexOf, s, [search]); i >= 0; i = apply(indexOf, s, [search, i + search.length])) {
      if (++n * per + base > lim) return n;
    }
    return n;
  }
  // bound checks a replacement of s with at most maxN matches; count
  // gives the real number when the bound with maxN is over the limit.
  function bound(what, s, maxN, repl, count) {
    const len = s.length;
    if (typeof repl === "function") {
      if (len + maxN * MATCH > g.limit()) check(what, len + count(len, MATCH) * MATCH);
      return guardFn(what, repl, len);
    }
    const [perMatch, total] = replBytes(repl, len);
    const per = MATCH + perMatch, base = len + total;
    if (base + maxN * per > g.limit()) check(what, base + count(base, per) * per);
    return repl;
  }
  wrap(RP, Symbol.replace, {
    [Symbol.replace](string, replaceValue) {
      const s = String(string);
      const r = typeof replaceValue === "function" ? replaceValue : String(replaceValue);
      const rx = this;
      const count = (base, per) => (!(rx instanceof RegExp) ? s.length + 1 : !rx.global ? 1 : countMatches(rx, s, base, per));
      return apply(rxReplace, this, [s, bound("RegExp.prototype[Symbol.replace]", s, s.length + 1, r, count)]);
    },
  }[Symbol.replace]);
  const isObj = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  for (const [name, orig, all] of [["replace", strReplace, false], ["replaceAll", strReplaceAll, true]]) {
    const what = "String.prototype." + name;
    wrap(SP, name, {
      [name](searchValue, replaceValue) {
        // A regexp (or any object) goes through its Symbol.replace, guarded above.
        if (this == null || isObj(searchValue)) return apply(orig, this, arguments);
        const s = String(this), search = String(searchValue);
        const r = typeof replaceValue === "function" ? replaceValue : String(replaceValue);
        const maxN = all ? (search === "" ? s.length + 1 : Math.floor(s.length / search.length) + 1) : 1;
        return apply(orig, s, [search, bound(what, s, maxN, r, (base, per) => countString(s, search, all, base, per))]);
      },
    }[name]);
  }

  // Constructors that allocate their size up front are replaced by proxies
  // whose construct trap checks the size; prototype.constructor follows so
  // that identity checks keep working.
  function guardCtor(name, bytesPer) {
    const C = global[name];
    if (typeof C !== "function") return;
    const hasInstance = { [Symbol.hasInstance](v) { return v instanceof C; } }[Symbol.hasInstance];
    const P = new Proxy(C, {
      // goja's instanceof does not see through proxies.
      get(t, k, r) { return k === Symbol.hasInstance ? hasInstance : Reflect.get(t, k, r); },
      construct(t, args, nt) {
        const a = args[0];
        let n = 0;
        if (a === undefined || a === null || typeof a !== "object") n = toLen(a);
        else if (!(a instanceof ArrayBuffer) && typeof a.length === "number") n = toLen(a.length);
        check(name, n * bytesPer);
        return construct(t, args, nt);
      },
    });
    defineProperty(C.prototype, "constructor", { value: P, writable: true, enumerable: false, configurable: true });
    defineProperty(global, name, { value: P, writable: true, enumerable: false, configurable: true });
  }
  guardCtor("ArrayBuffer", 1);
  for (const n of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
    guardCtor(n, global[n] ? global[n].BYTES_PER_ELEMENT : 8);
  }

  // The override mistake: assigning obj.toString = f fails when an
  // inherited toString is frozen. These common ones become accessors
  // whose setter defines an own property on the receiver instead.
  // Only names commonly assigned on instances: an accessor costs a call
  // on every read, so hot methods (push, call, then, hasOwnProperty) stay
  // data properties.
  const overridable = [
    [Object.prototype, ["constructor", "toString", "toLocaleString", "valueOf"]],
    [Function.prototype, ["toString"]],
    [Error.prototype, ["constructor", "name", "message", "toString"]],
  ];
  for (const [obj, names] of overridable) {
    for (const name of names) {
      const d = getOwn(obj, name);
      if (!d || !("value" in d)) continue;
      const value = d.value;
      defineProperty(obj, name, {
        get() { return value; },
        set(v) {
          if (this === obj) throw new TypeError("Cannot assign to read only property '" + name + "' of a frozen built-in");
          defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable, configurable: false,
      });
    }
  }

  // Indexed loops and one descriptor lookup per property: this walk is
  // most of what a new runtime costs.
  const seen = new Set();
  const stack = [];
  const push = (v) => { if (v !== null && (typeof v === "object" || typeof v === "function") && v !== global && !seen.has(v)) { seen.add(v); stack.push(v); } };
  const gk = ownKeys(global);
  for (let i = 0; i < gk.length; i++) {
    const k = gk[i], d = getOwn(global, k);
    if (d.configurable) {
      if ("value" in d) defineProperty(global, k, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
      else defineProperty(global, k, { configurable: false });
    }
    if ("value" in d) push(d.value);
  }
  push(getProto(global));
  // Most objects are functions (about 700 of 800), and most of their
  // properties are length and name, whose values are primitives in every
  // built-in and prelude function (TestHardenFreezesEverything checks
  // that nothing reachable is left unfrozen), and prototype, which a
  // function cannot have as an accessor: those skip the descriptor.
  while (stack.length > 0) {
    const o = stack.pop();
    freezeObj(o);
    push(getProto(o));
    const ks = ownKeys(o);
    const fn = typeof o === "function";
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      if (fn) {
        if (k === "length" || k === "name") continue;
        if (k === "prototype") { push(o.prototype); continue; }
      }
      const d = getOwn(o, k);
      if ("value" in d) push(d.value);
      else { push(d.get); push(d.set); }
    }
  }
})
