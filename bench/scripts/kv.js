// kv: one KV read and one KV write per request (PiCloud only: the other
// contestants have no KV store to bind on this machine).
export default {
  async fetch(request, env) {
    const n = Number((await env.BENCH.get("counter")) ?? "0") + 1;
    await env.BENCH.put("counter", String(n));
    return Response.json({ n: n > 0 });
  },
};
