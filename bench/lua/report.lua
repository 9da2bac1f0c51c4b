-- Shared by the scenario scripts: per-thread ids and one machine-readable line at the end of a wrk run,
-- "RESULT req/s p50_ms p99_ms requests=… non2xx=… …", which run.sh turns into "NAME req/s p50_ms p99_ms".
local threads_started = 0
function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_id", threads_started)
end

function read_lines(path)
  local lines = {}
  for line in assert(io.open(path, "r"), "cannot open " .. tostring(path)):lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f requests=%d non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
