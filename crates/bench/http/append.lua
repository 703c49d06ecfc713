-- wrk script: durable appends through HTTP. Each request appends an
-- ActivityRecorded event to one of STREAMS bench partnerships, picked
-- round-robin per thread; the server generates the event ids.
local streams = tonumber(os.getenv("STREAMS") or "64")
local token = os.getenv("TOKEN")
local n = 0
local body = '{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter","participants":["hejtman"],"areas":["tourism","culture"]},' ..
  '"source":{"title":"benchmark","reference":"bench"},"note":"a letter with detailed proposals for cooperation"}'

function setup(thread)
  thread:set("offset", math.random(0, streams - 1))
end

function request()
  n = n + 1
  local path = "/api/v1/partnerships/plzensky-kraj--bench-" .. ((n + offset) % streams) .. "/events"
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
