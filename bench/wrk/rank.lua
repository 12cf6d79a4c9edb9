-- POST a rank as the strip does: {"visitor_id": "bench-visitor-<i>", "k": 3} for a random i of
-- 1..VISITORS on project PROJECT, each request with an Idempotency-Key of its own (the run's
-- NONCE, the thread, a counter and a random number: never reused within or across runs).
-- With TOKENS=<prefix>, thread t also writes the click tokens of its 200 answers to
-- <prefix>.<t>, one a line, for click.lua; that parses every answer, so only the warm-up does.
-- Usage: PROJECT=1 VISITORS=300 NONCE=run1 [TOKENS=/tmp/tokens] wrk -s rank.lua http://127.0.0.1:8000
local project = os.getenv("PROJECT") or "1"
local visitors = tonumber(os.getenv("VISITORS") or "300")
local nonce = os.getenv("NONCE") or tostring(os.time())
local tokens = os.getenv("TOKENS")
local path = "/api/projects/" .. project .. "/rank"
local started = 0

function setup(thread)
  thread:set("id", started)
  started = started + 1
end

function init(args)
  counter = 0
  math.randomseed(os.time() + 7919 * id)
  headers = {["Content-Type"] = "application/json"}
  if tokens then
    out = assert(io.open(tokens .. "." .. id, "w"))
    out:setvbuf("line")
  end
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format(
    "%s-%d-%d-%08x", nonce, id, counter, math.random(0, 0x7fffffff))
  local body = string.format(
    '{"visitor_id": "bench-visitor-%d", "k": 3}', math.random(1, visitors))
  return wrk.format("POST", path, headers, body)
end

if tokens then
  response = function(status, headers, body)
    if status == 200 then
      for token in body:gmatch('"click_token":"([^"]+)"') do
        out:write(token, "\n")
      end
    end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"non2xx\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f}\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
