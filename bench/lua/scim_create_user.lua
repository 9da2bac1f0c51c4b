-- SCIM create: POST /scim/v2/Users with a new userName each request (run, thread and a counter make it unique), no
-- password, as Entra ID sends it. The SCIM Bearer token comes from scim.sh via -H.
dofile(os.getenv("BENCH_LUA_LIB"))
local prefix
local counter = 0
wrk.headers["Content-Type"] = "application/scim+json"

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  prefix = (os.getenv("BENCH_CREATE_PREFIX") or "scim") .. "-" .. os.time() .. "-" .. thread_id .. "-" .. math.random(1000000) .. "-"
end

function request()
  counter = counter + 1
  local name = prefix .. counter .. "@bench-scim.example"
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name .. '","active":true,'
    .. '"name":{"givenName":"Bench","familyName":"Create' .. counter .. '"},'
    .. '"emails":[{"primary":true,"type":"work","value":"' .. name .. '"}]}'
  return wrk.format("POST", "/scim/v2/Users", nil, body)
end
