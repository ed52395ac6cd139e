-- wrk script: POST WRK_BODY with WRK_HEADERS ("name: value" lines); results as JSON to WRK_OUT.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["content-type"] = "application/json"
for name, value in string.gmatch(os.getenv("WRK_HEADERS") or "", "([^:\n]+):%s*([^\n]*)") do
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(os.getenv("WRK_OUT"), "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50":%d,"p90":%d,"p99":%d}',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
  f:close()
end
