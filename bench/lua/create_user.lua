-- U5 / U6: POST /api/v1/tenants/{BENCH_TENANT}/users with a new email each request (run, thread and a counter make it
-- unique), without a password (U5: the user is invited, status PENDING_EMAIL_VERIFICATION) or, when
-- BENCH_CREATE_PASSWORD is set, with that password (U6: one Argon2id hash per request). The admin Bearer token comes
-- from scale.sh via -H.
dofile(os.getenv("BENCH_LUA_LIB"))
local path, password_json, prefix
local counter = 0
-- Set on wrk.headers, not passed to wrk.format: a table there would replace the -H Authorization header.
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  path = "/api/v1/tenants/" .. os.getenv("BENCH_TENANT") .. "/users"
  local password = os.getenv("BENCH_CREATE_PASSWORD")
  password_json = (password and password ~= "") and (', "password": "' .. password .. '"') or ""
  prefix = (os.getenv("BENCH_CREATE_PREFIX") or "scale") .. "-" .. os.time() .. "-" .. thread_id .. "-" .. math.random(1000000) .. "-"
end

function request()
  counter = counter + 1
  local body = '{"email": "' .. prefix .. counter .. '@bench-create.example", "first_name": "Bench", "last_name": "Create' .. counter .. '"' .. password_json .. '}'
  return wrk.format("POST", path, nil, body)
end
