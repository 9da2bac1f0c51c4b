-- U1: GET /api/v1/tenants/{tenant}/users/{id} for a random one of the user ids sampled across the big tenant
-- (BENCH_IDS_FILE, one id per line; tenant BENCH_TENANT). The admin Bearer token comes from scale.sh via -H.
dofile(os.getenv("BENCH_LUA_LIB"))
local paths

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  local prefix = "/api/v1/tenants/" .. os.getenv("BENCH_TENANT") .. "/users/"
  paths = {}
  for _, id in ipairs(read_lines(os.getenv("BENCH_IDS_FILE"))) do paths[#paths + 1] = prefix .. id end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
