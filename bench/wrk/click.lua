-- POST /api/clicks as the strip does, each with a distinct click token: the tokens of the file
-- TOKENS (one a line, collected from rank answers by rank.lua), thread i of THREADS sending
-- lines i, i + THREADS, ... so that no two requests send the same token and every click is a
-- first click. Past its last token a thread sends that one again (answered already_recorded;
-- the script reports how many requests it repeated).
-- Purchases by click token are the same requests elsewhere: ENDPOINT=/api/purchases and
-- FIELDS=', "value": "1.00"' (JSON members appended to each body) make every request a first
-- purchase of its impression.
-- Usage: TOKENS=/tmp/tokens-c16 THREADS=2 wrk -t2 -s click.lua http://127.0.0.1:8000
local file = os.getenv("TOKENS") or "tokens.txt"
local stride = tonumber(os.getenv("THREADS") or "2")
local endpoint = os.getenv("ENDPOINT") or "/api/clicks"
local fields = os.getenv("FIELDS") or ""
local threads = {}
local started = 0

function setup(thread)
  thread:set("offset", started)
  started = started + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local line_number = 0
  for token in io.lines(file) do
    if line_number % stride == offset then
      table.insert(bodies, '{"token": "' .. token .. '"' .. fields .. '}')
    end
    line_number = line_number + 1
  end
  assert(#bodies > 0, "no click tokens for thread " .. offset .. " in " .. file)
  next_index = 1
  repeated = 0
  headers = {["Content-Type"] = "application/json"}
end

function request()
  local index = next_index
  if index > #bodies then
    repeated = repeated + 1
    index = #bodies
  else
    next_index = next_index + 1
  end
  return wrk.format("POST", endpoint, headers, bodies[index])
end

done = function(summary, latency, requests)
  local again = 0
  for _, thread in ipairs(threads) do
    again = again + (thread:get("repeated") or 0)
  end
  io.write(string.format(
    "JSON {\"non2xx\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"repeated_tokens\": %d}\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, again))
end
