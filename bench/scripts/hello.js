// hello: the smallest useful handler. Served unchanged by every contestant.
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    return Response.json({ hello: "world", path });
  },
};
