-- Requests rotate over the pairs of pairs.txt (one customer each: token, from, to), so
-- concurrent transfers touch distinct accounts: the no-contention case.
local pairs = {}
for line in io.lines("pairs.txt") do
  local tok, a, b = line:match("(%S+) (%S+) (%S+)")
  pairs[#pairs + 1] = { tok = tok, a = a, b = b }
end
local counter = 0
local offset = 0
tid = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1e12)))
  thread:set("offset", math.random(0, #pairs - 1))
end
request = function()
  counter = counter + 1
  local p = pairs[(counter + offset) % #pairs + 1]
  wrk.headers["authorization"] = "Bearer " .. p.tok
  wrk.headers["idempotency-key"] = "bench-" .. tid .. "-" .. counter
  local body = '{"from_account_id":"' .. p.a .. '","to_account_id":"' .. p.b .. '","amount":"0.01","currency":"USD"}'
  return wrk.format(nil, nil, nil, body)
end
dofile("report.lua")
