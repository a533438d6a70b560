-- wrk script for bench/run. Arguments (after "--"):
--   body=<file>    send the file as a POST body (application/json)
--   paths=<file>   pick each request's path at random from the file's lines
-- done() prints one line "BENCHRESULT {json}" that bench/run parses.

local paths = nil

function init(args)
  for _, a in ipairs(args) do
    local k, v = a:match("^(%w+)=(.*)$")
    if k == "body" then
      local f = assert(io.open(v, "rb"))
      wrk.body = f:read("*a")
      f:close()
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
    elseif k == "paths" then
      paths = {}
      for line in io.lines(v) do
        if line ~= "" then paths[#paths + 1] = line end
      end
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  if paths then
    return wrk.format(nil, paths[math.random(#paths)])
  end
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHRESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
