-- wrk script: the benchmark's request mix from mix.tsv, 9 clean API requests to 1 attack,
-- every request with the same bearer token, as API Gateway clients send it. Counts statuses per thread
-- and prints them at the end (the share of 403 must be the share of attacks, 10%).
-- TOKEN is the access token run.sh's issuer signed: decagon's authorizer verifies it.
local token = "Bearer " .. assert(os.getenv("TOKEN"), "TOKEN: the bearer token (run.sh sets it)")
local mixfile = os.getenv("MIX") or "mix.tsv"

local function load()
  local clean, attack = {}, {}
  for line in io.lines(mixfile) do
    if line:sub(1, 1) ~= "#" and line ~= "" then
      local kind, method, path, header, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
      local h = { ["Authorization"] = token, ["Accept"] = "application/json",
                  ["User-Agent"] = "decagon-bench/1.0 (+wrk)" }
      if header ~= "-" then
        local k, v = header:match("^([^:]+):%s*(.*)$")
        h[k] = v
      end
      if body == "-" then body = nil else h["Content-Type"] = "application/json" end
      local req = wrk.format(method, path, h, body)
      if kind == "attack" then table.insert(attack, req) else table.insert(clean, req) end
    end
  end
  local schedule = {}
  for i = 0, 10 * #attack - 1 do
    if i % 10 == 9 then
      table.insert(schedule, attack[math.floor(i / 10) % #attack + 1])
    else
      table.insert(schedule, clean[i % #clean + 1])
    end
  end
  return schedule
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
  schedule = load()
  n = 0
  statuses = {}
end

function request()
  n = n + 1
  return schedule[(n - 1) % #schedule + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for s, c in pairs(t:get("statuses")) do total[s] = (total[s] or 0) + c end
  end
  local parts = {}
  for s, c in pairs(total) do table.insert(parts, s .. "=" .. c) end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("p50_us: %d\np99_us: %d\nrps: %.1f\n", latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6)))
end
