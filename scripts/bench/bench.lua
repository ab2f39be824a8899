-- wrk script for the Linkwork benchmark (scripts/bench/run.py sets it up; see scripts/bench/wrk.py).
--
-- Environment:
--   BENCH_METHOD  GET or POST
--   BENCH_PATHS   space-separated paths, requested in turn (each thread starts at a different one)
--   BENCH_BODY    form-encoded POST body; every BENCHUUID in it becomes a fresh UUID in each request
-- Cookies, the CSRF header and the content type come as wrk -H headers.
-- done() prints one line: BENCH_JSON {...} with latency percentiles in milliseconds and the error counts.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  table.insert(paths, path)
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local counter = 0
function init(args)
  counter = (thread_number or 0) * 7
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

local function uuid4()
  local r = math.random
  return string.format(
    "%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
    r(0, 0xffff), r(0, 0xffff), r(0, 0xffff), r(0, 0xfff),
    r(8, 11), r(0, 0xfff), r(0, 0xffff), r(0, 0xffff), r(0, 0xffff)
  )
end

function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if method == "GET" then
    return wrk.format("GET", path)
  end
  return wrk.format(method, path, nil, (string.gsub(body, "BENCHUUID", uuid4)))
end

function done(summary, latency, requests)
  local e = summary.errors
  print(string.format(
    'BENCH_JSON {"requests": %d, "duration_s": %.3f, "requests_per_s": %.2f, '
      .. '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "mean_ms": %.2f, "max_ms": %.2f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status
  ))
end
