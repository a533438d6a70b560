package node

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/pgtest"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// kvScript exercises every KV method and option and answers what it saw.
const kvScript = `export default { async fetch(req, env) {
  const kv = env.STORE, out = {};
  await kv.put("greeting", "hello", { metadata: { lang: "en" }, expirationTtl: 3600 });
  out.text = await kv.get("greeting");
  out.textOpt = await kv.get("greeting", { type: "text" });
  const wm = await kv.getWithMetadata("greeting");
  out.meta = wm.metadata; out.wmValue = wm.value; out.cacheStatus = wm.cacheStatus;
  await kv.put("obj", JSON.stringify({ n: 1 }));
  out.json = await kv.get("obj", "json");
  await kv.put("bin", new Uint8Array([1, 2, 255]));
  out.bin = Array.from(new Uint8Array(await kv.get("bin", "arrayBuffer")));
  out.stream = await new Response(await kv.get("greeting", "stream")).text();
  await kv.put("fromStream", new Response("streamed").body);
  out.fromStream = await kv.get("fromStream");
  out.missing = await kv.get("nope");
  out.missingMeta = await kv.getWithMetadata("nope");
  for (const k of ["a/1", "a/2", "a/3", "b/1"]) await kv.put(k, k);
  const p1 = await kv.list({ prefix: "a/", limit: 2 });
  const p2 = await kv.list({ prefix: "a/", limit: 2, cursor: p1.cursor });
  out.pages = [p1.keys.map(k => k.name), p1.list_complete, p2.keys.map(k => k.name), p2.list_complete];
  const all = await kv.list();
  out.greetingKey = all.keys.find(k => k.name === "greeting");
  await kv.delete("obj");
  out.deleted = await kv.get("obj");
  const errs = [];
  for (const bad of ["", ".", "..", "x".repeat(513)]) {
    try { await kv.put(bad, "v"); errs.push("accepted"); } catch (e) { errs.push(String(e.message).length > 0); }
  }
  try { await kv.put("k", "v", { expirationTtl: 10 }); errs.push("accepted"); } catch (e) { errs.push(true); }
  try { await kv.get("k", "yaml"); errs.push("accepted"); } catch (e) { errs.push(e instanceof TypeError); }
  try { await kv.put("k", 42); errs.push("accepted"); } catch (e) { errs.push(e instanceof TypeError); }
  out.errs = errs;
  const users = kv.collection("users");
  await users.set("ada", { name: "Ada" });
  out.coll = [await users.get("ada"), await users.has("ada"), await users.has("bob"), (await users.list()).keys.map(k => k.name)];
  await users.delete("ada");
  out.collAfter = await users.has("ada");
  out.tag = Object.prototype.toString.call(kv);
  return Response.json(out);
} }`

func TestKVBindingEveryMethod(t *testing.T) {
	ctx := context.Background()
	engine, mgr := bindingStack(t)
	script := deployKV(t, mgr, "alpha", kvScript, "CACHE")
	w := httptest.NewRecorder()
	if res, err := engine.Execute(ctx, &runtime.ExecRequest{Script: script, Method: "GET", URL: "http://x/"}, w); err != nil {
		t.Fatalf("execute: %v %+v", err, res.Logs)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.Body.String())
	}
	want := map[string]string{
		"text": `"hello"`, "textOpt": `"hello"`, "meta": `{"lang":"en"}`, "wmValue": `"hello"`, "cacheStatus": `null`,
		"json": `{"n":1}`, "bin": `[1,2,255]`, "stream": `"hello"`, "fromStream": `"streamed"`,
		"missing": `null`, "missingMeta": `{"cacheStatus":null,"metadata":null,"value":null}`,
		"pages":   `[["a/1","a/2"],false,["a/3"],true]`,
		"deleted": `null`, "errs": `[true,true,true,true,true,true,true]`,
		"coll": `[{"name":"Ada"},true,false,["ada"]]`, "collAfter": `false`, "tag": `"[object KVNamespace]"`,
	}
	for k, v := range want {
		b, _ := json.Marshal(got[k])
		if string(b) != v {
			t.Errorf("%s = %s, want %s", k, b, v)
		}
	}
	gk, _ := got["greetingKey"].(map[string]any)
	if gk["name"] != "greeting" || gk["expiration"] == nil || gk["metadata"] == nil {
		t.Errorf("list entry = %v, want name, expiration and metadata", gk)
	}
}

func TestKVBindingIsScopedToTheExecutingApp(t *testing.T) {
	ctx := context.Background()
	engine, mgr := bindingStack(t)
	put := deployKV(t, mgr, "alpha", `export default { async fetch(req, env) { await env.STORE.put("k", "alpha's"); return new Response("ok") } }`, "SHARED")
	read := deployKV(t, mgr, "beta", `export default { async fetch(req, env) { return Response.json({ v: await env.STORE.get("k"), n: (await env.STORE.list()).keys.length }) } }`, "SHARED")
	for _, s := range []runtime.Script{put, read} {
		w := httptest.NewRecorder()
		if res, err := engine.Execute(ctx, &runtime.ExecRequest{Script: s, Method: "GET", URL: "http://x/"}, w); err != nil {
			t.Fatalf("execute: %v %+v", err, res.Logs)
		}
		if s.ID == read.ID && w.Body.String() != `{"v":null,"n":0}` {
			t.Fatalf("app beta sees app alpha's namespace: %s", w.Body.String())
		}
	}
}

func bindingStack(t *testing.T) (*runtime.Engine, *manager.Manager) {
	t.Helper()
	binds := &bindings{}
	engine, err := runtime.New(runtime.Config{Bindings: binds})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := manager.Open(context.Background(), manager.Config{DatabaseURL: pgtest.DSN(t), Compiler: compiler{engine}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	binds.mgr = mgr
	return engine, mgr
}

func deployKV(t *testing.T, mgr *manager.Manager, app, src, namespace string) runtime.Script {
	t.Helper()
	ctx := context.Background()
	if _, err := mgr.CreateApp(ctx, app, app); err != nil {
		t.Fatal(err)
	}
	bindings := json.RawMessage(`{"STORE": {"type": "kv", "namespace": "` + namespace + `"}}`)
	d, err := mgr.Deploy(ctx, manager.DeployInput{App: app, Name: "kv", Source: src, Bindings: bindings})
	if err != nil {
		t.Fatal(err)
	}
	s, err := catalog{mgr: mgr, ceilings: limits.Ceilings}.Script(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
