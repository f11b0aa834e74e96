-- wrk: POST the bodies of `fsml bench serve --write-requests FILE` in turn, each thread from its
-- own offset. Usage: WRK_BODIES=FILE WRK_PATH=/predict wrk -s wrk-post.lua URL
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do bodies[#bodies + 1] = line end
local path = os.getenv("WRK_PATH") or "/predict"
local counter = 0
local i = 0

function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 7919)
end

function init(args)
  i = start or 0
end

function request()
  i = i + 1
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[(i % #bodies) + 1])
end
