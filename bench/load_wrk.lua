-- wrk script for bench/load.py: replays a file of requests, one line each,
--   METHOD <TAB> PATH <TAB> BEARER TOKEN (or -) <TAB> JSON BODY (or -)
-- Thread k of n sends lines k+1, k+1+n, ... so that no two threads send the same line (a
-- booking must use a return nobody else books); a thread that runs out starts again and counts
-- the wrap, which bench/load.py reports as "exhausted" where lines must not repeat. A file of
-- fewer lines than threads (GET /healthz) is shared.
-- Each thread counts responses by status and by error code ("code" in the JSON body); done()
-- prints one line "WRKJSON {...}" with the totals, wrk's summary and latency percentiles.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  lines = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
    if body == "-" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(lines, wrk.format(method, path, headers, body))
  end
  first = (tid % #lines) + 1
  position = first
  wraps = 0
  statuses = {}
  codes = {}
end

function request()
  if position > #lines then
    position = first
    wraps = wraps + 1
  end
  local req = lines[position]
  position = position + nthreads
  return req
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 300 then
    local code = body and body:match('"code"%s*:%s*"([^"]+)"') or "none"
    local ckey = key .. ":" .. code
    codes[ckey] = (codes[ckey] or 0) + 1
  end
end

local function encode(map)
  local parts = {}
  for k, v in pairs(map) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function add(into, from)
  for k, v in pairs(from) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, requests)
  local statuses_all, codes_all, wraps_all = {}, {}, 0
  for _, t in ipairs(threads) do
    add(statuses_all, t:get("statuses") or {})
    add(codes_all, t:get("codes") or {})
    wraps_all = wraps_all + (t:get("wraps") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"wraps":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"statuses":%s,"codes":%s}\n',
    summary.duration, summary.requests, wraps_all,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.timeout,
    encode(statuses_all), encode(codes_all)))
end
