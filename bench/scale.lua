-- Random reads over the generated range (bench/scale.ts): FIRST_S (epoch s of the first interval end),
-- SPAN_S (seconds the data covers), MODE `page` (a newest-first page ending at a random 5-minute
-- interval: the page cache misses) or `day` (one region's hourly aggregate of a random day).
math.randomseed(os.time())
local first = tonumber(os.getenv("FIRST_S"))
local span = tonumber(os.getenv("SPAN_S"))
local mode = os.getenv("MODE")
local regions = { "NSW1", "QLD1", "SA1", "TAS1", "VIC1" }
local iso = function(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
request = function()
  if mode == "day" then
    local from = first + math.random(0, math.max(0, math.floor(span / 86400) - 1)) * 86400
    local region = regions[math.random(1, #regions)]
    return wrk.format("GET", string.format("/api/v1/dispatch?interval=1h&region_id=%s&from=%s&to=%s",
      region, iso(from), iso(from + 86400)))
  end
  local t = first + math.random(0, math.floor(span / 300)) * 300
  return wrk.format("GET", string.format("/api/v1/dispatch?limit=100&to=%s", iso(t)))
end
