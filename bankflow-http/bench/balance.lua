local f = io.open("env.json"); local s = f:read("*a"); f:close()
local tok = s:match('"token": "([^"]+)"'); local a = s:match('"a": "([^"]+)"')
wrk.path = "/api/v1/accounts/" .. a .. "/balance"
wrk.headers["authorization"] = "Bearer " .. tok
done = function(summary, latency, requests)
  io.write(string.format("p50=%.2fms p99=%.2fms rps=%.0f non2xx=%d\n", latency:percentile(50)/1000, latency:percentile(99)/1000,
    summary.requests / (summary.duration/1e6), summary.errors.status))
end
