-- POST a rank for a random customer of 1..CUSTOMERS on project PROJECT (k = 3).
-- Usage: PROJECT=1 CUSTOMERS=100 wrk -s rank.lua http://127.0.0.1:8000
local project = os.getenv("PROJECT") or "1"
local customers = tonumber(os.getenv("CUSTOMERS") or "100")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local path = "/api/projects/" .. project .. "/rank"

function request()
  local body = string.format('{"customer_id": %d, "k": 3}', math.random(1, customers))
  return wrk.format(nil, path, nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"non2xx\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f}\n",
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
