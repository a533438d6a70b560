// kv: one KV read and one KV write per request, on one of 1,000 keys
// (PiCloud only: the other contestants have no KV store to bind here).
export default {
  async fetch(request, env) {
    const key = "k" + Math.floor(Math.random() * 1000);
    const n = Number((await env.BENCH.get(key)) ?? "0") + 1;
    await env.BENCH.put(key, String(n));
    return Response.json({ ok: n > 0 });
  },
};
