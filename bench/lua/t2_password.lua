-- T2: POST /connect/token grant_type=password for a random seeded user (right password), client_secret_basic
-- for the WEB application (header from run.sh). Users come from BENCH_USERS_FILE, one email per line.
dofile(os.getenv("BENCH_LUA_LIB"))
local emails
local password
-- Set on wrk.headers, not passed to wrk.format: a table there would replace the -H Authorization header.
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local function form_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  emails = read_lines(os.getenv("BENCH_USERS_FILE"))
  password = form_escape(os.getenv("BENCH_PASSWORD"))
end

function request()
  local body = "grant_type=password&username=" .. form_escape(emails[math.random(#emails)]) .. "&password=" .. password
  return wrk.format("POST", "/connect/token", nil, body)
end
