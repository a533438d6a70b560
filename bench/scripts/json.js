// json: parse a 2.5 KB document of 50 items, map/filter/sort them and
// answer JSON. Served unchanged by every contestant; rawgo does the same
// work natively and must answer the same bytes.
export default {
  async fetch(request) {
    const doc = await request.json();
    const items = doc.items
      .map((it) => ({ id: it.id, name: it.name.toUpperCase(), total: it.price * it.qty, tag: it.tag.length }))
      .filter((it) => it.total >= 500)
      .sort((a, b) => b.total - a.total || a.id - b.id);
    let sum = 0;
    for (const it of items) sum += it.total;
    return Response.json({ count: items.length, sum, items });
  },
};
