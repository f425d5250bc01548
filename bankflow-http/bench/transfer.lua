-- Every request moves 0.01 between the same two accounts: the hot-pair case (one row lock).
local f = io.open("env.json"); local s = f:read("*a"); f:close()
local tok = s:match('"token": "([^"]+)"'); local a = s:match('"a": "([^"]+)"'); local b = s:match('"b": "([^"]+)"')
local counter = 0
tid = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.body = '{"from_account_id":"' .. a .. '","to_account_id":"' .. b .. '","amount":"0.01","currency":"USD"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. tok
function setup(thread) thread:set("tid", tostring(math.random(1, 1e12))) end
request = function()
  counter = counter + 1
  wrk.headers["idempotency-key"] = "bench-" .. tid .. "-" .. counter
  return wrk.format()
end
dofile("report.lua")
