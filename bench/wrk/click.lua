-- POST a click on distinct impressions: thread i of THREADS clicks FIRST+i, FIRST+i+THREADS, ...
-- so no two requests click the same transaction and every click is a first click. Past LAST
-- the script stops sending new ids (it reports how many requests it had to repeat).
-- Usage: FIRST=1 LAST=500000 THREADS=2 wrk -t2 -s click.lua http://127.0.0.1:8000
local first = tonumber(os.getenv("FIRST") or "1")
local last = tonumber(os.getenv("LAST") or "1000000")
local stride = tonumber(os.getenv("THREADS") or "2")
local threads = {}
local started = 0

function setup(thread)
  thread:set("offset", started)
  started = started + 1
  table.insert(threads, thread)
end

function init(args)
  next_id = first + offset
  repeated = 0
  wrk.method = "POST"
end

function request()
  local id = next_id
  if id > last then
    repeated = repeated + 1
    id = last
  else
    next_id = next_id + stride
  end
  return wrk.format(nil, "/api/transactions/" .. id .. "/click")
end

done = function(summary, latency, requests)
  local again = 0
  for _, thread in ipairs(threads) do
    again = again + (thread:get("repeated") or 0)
  end
  io.write(string.format(
    "JSON {\"non2xx\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"repeated_ids\": %d}\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, again))
end
