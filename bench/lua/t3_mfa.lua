-- T3: password + TOTP sign-in through the token endpoint, as a client of the mfa-otp grant does it:
--   1. POST /connect/token grant_type=password (right password) -> 400 {"error":"mfa_required","mfa_token":...}
--   2. POST /connect/token grant_type=urn:scaikey:params:oauth:grant-type:mfa-otp&mfa_token=...&otp=<code> -> 200 tokens
-- client_secret_basic of the T3 WEB application (header from run.sh). Users come from BENCH_T3_USERS_FILE (one email
-- a line, seeded by `ScaiKey.Bench t3-seed`, all with one TOTP secret) and codes from BENCH_T3_CODES_FILE (the first
-- step's number, then one code per 30-second step). A user's code works once per step, so each thread takes its own
-- share of the users round-robin and never uses a user twice in one step; a sign-in that would have to is counted
-- as "reused" (too few users for the rate: seed more with T3_USERS).
-- Reported: RESULT completed sign-ins per second (both requests), the latency percentiles of all requests, and as
-- non2xx every answer that was neither the expected 400 mfa_required nor a 200.
dofile(os.getenv("BENCH_LUA_LIB"))
local emails, password, codes, first_step
local pending = {}
local last_step = {}
local next_user = 0
-- Globals, read by done() through thread:get.
completed = 0
unexpected = 0
reused = 0

local threads = {}
local shared_setup = setup
function setup(thread)
  shared_setup(thread)
  threads[#threads + 1] = thread
end

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local function form_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local otp_grant = form_escape("urn:scaikey:params:oauth:grant-type:mfa-otp")

function init(args)
  local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
  local all = read_lines(os.getenv("BENCH_T3_USERS_FILE"))
  emails = {}
  for i = thread_id, #all, thread_count do emails[#emails + 1] = form_escape(all[i]) end
  password = form_escape(os.getenv("BENCH_PASSWORD"))
  local lines = read_lines(os.getenv("BENCH_T3_CODES_FILE"))
  first_step = tonumber(lines[1])
  codes = {}
  for i = 2, #lines do codes[#codes + 1] = lines[i] end
end

local function current_step() return math.floor(os.time() / 30) end

function request()
  local step = current_step()
  -- An mfa_token waiting for its code goes first: any connection of this thread may send it.
  if #pending > 0 then
    local token = table.remove(pending)
    return wrk.format("POST", "/connect/token", nil,
      "grant_type=" .. otp_grant .. "&mfa_token=" .. token .. "&otp=" .. codes[step - first_step + 1])
  end
  for _ = 1, #emails do
    next_user = next_user % #emails + 1
    if last_step[next_user] ~= step then break end
  end
  if last_step[next_user] == step then reused = reused + 1 end
  last_step[next_user] = step
  return wrk.format("POST", "/connect/token", nil, "grant_type=password&username=" .. emails[next_user] .. "&password=" .. password)
end

function response(status, headers, body)
  if status == 200 then
    completed = completed + 1
  elseif status == 400 then
    local token = body:match('"mfa_token"%s*:%s*"([^"]+)"')
    if token then pending[#pending + 1] = token else unexpected = unexpected + 1 end
  else
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local signed_in, failed, reuses = 0, 0, 0
  for _, thread in ipairs(threads) do
    signed_in = signed_in + thread:get("completed")
    failed = failed + thread:get("unexpected")
    reuses = reuses + thread:get("reused")
  end
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f requests=%d signins=%d non2xx=%d reused=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    signed_in / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, signed_in, failed + reuses, reuses, e.connect, e.read, e.write, e.timeout))
end
