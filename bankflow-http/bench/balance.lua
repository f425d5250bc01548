local f = io.open("env.json"); local s = f:read("*a"); f:close()
local tok = s:match('"token": "([^"]+)"'); local a = s:match('"a": "([^"]+)"')
wrk.path = "/api/v1/accounts/" .. a .. "/balance"
wrk.headers["authorization"] = "Bearer " .. tok
dofile("report.lua")
