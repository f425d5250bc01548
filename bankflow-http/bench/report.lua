-- One summary line per wrk run, shared by every script here (dofile'd): latency
-- percentiles and max in ms, rate, and every kind of error wrk counts.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "p50=%.2fms p99=%.2fms max=%.2fms rps=%.0f non2xx=%d socket_errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6), e.status,
    e.connect + e.read + e.write + e.timeout))
end
