-- Every request asks for a different page (a random `to` bound over the seeded 2026-01 range),
-- so the projection's page cache misses and each request runs the SQLite query.
math.randomseed(os.time())
request = function()
  local t = 1767225900 + math.random(0, 1150) * 300
  local path = string.format("/api/v1/dispatch?limit=100&to=%s", os.date("!%Y-%m-%dT%H:%M:%SZ", t))
  return wrk.format("GET", path)
end
