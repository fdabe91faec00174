-- wrk script for bench/checkin_bench.py and bench/signals_bench.py.
-- Environment: BENCH_THREADS (wrk's -t), BENCH_TOKENS (a file of phone tokens, one a line), BENCH_KIND ("checkin" or
-- "signals"), BENCH_RUN (a run id that keeps client ids unique across runs), BENCH_BATCH
-- (points per signals batch), BENCH_LAT / BENCH_LON (the subjects' home).
-- Each request goes out under the next token, with client ids no other request uses; the
-- acknowledged (2xx) answers are counted per thread and printed as one JSON line at the end.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    table.insert(tokens, line)
  end
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  kind = os.getenv("BENCH_KIND") or "checkin"
  run = os.getenv("BENCH_RUN") or "0"
  batch = tonumber(os.getenv("BENCH_BATCH") or "100")
  lat = tonumber(os.getenv("BENCH_LAT") or "24.7")
  lon = tonumber(os.getenv("BENCH_LON") or "107.5")
  -- Signals are dated from this many seconds ago on, one second apart per subject.
  base = os.time() - tonumber(os.getenv("BENCH_SIGNALS_AGE") or "86400")
  acked = 0
  other = 0
  math.randomseed(os.time() + id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function stamp(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function jitter()
  return (math.random() - 0.5) * 0.0004
end

function request()
  counter = counter + 1
  -- Threads take the tokens in turn: thread i sends under tokens i, i + n, i + 2n, ...
  local sequence = (counter - 1) * nthreads + id
  local token = tokens[sequence % #tokens + 1]
  local turn = math.floor(sequence / #tokens)
  wrk.headers["Authorization"] = "Bearer " .. token
  if kind == "checkin" then
    local body = string.format(
      '{"client_id":"b%s-%d-%d","lat":%.6f,"lon":%.6f,"accuracy_m":15,"recorded_at":"%s"}',
      run, id, counter, lat + jitter(), lon + jitter(), stamp(os.time() - 5))
    return wrk.format("POST", "/mobile/v1/checkins", nil, body)
  end
  local points = {}
  for i = 1, batch do
    local t = base + turn * batch + i
    points[i] = string.format(
      '{"client_id":"b%s-%d-%d-%d","lat":%.6f,"lon":%.6f,"accuracy_m":12,"recorded_at":"%s"}',
      run, id, counter, i, lat + jitter(), lon + jitter(), stamp(t))
  end
  return wrk.format("POST", "/mobile/v1/signals", nil, "[" .. table.concat(points, ",") .. "]")
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    acked = acked + 1
  else
    other = other + 1
    if other <= 3 then
      io.stderr:write("status " .. status .. ": " .. string.sub(body, 1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local total_acked, total_other = 0, 0
  for _, thread in ipairs(threads) do
    total_acked = total_acked + thread:get("acked")
    total_other = total_other + thread:get("other")
  end
  io.write(string.format(
    'BENCH {"acked": %d, "refused": %d, "requests": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "rps": %.1f, "socket_errors": %d}\n',
    total_acked, total_other, summary.requests,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
