-- T1: POST /connect/token grant_type=client_credentials; the client authenticates with client_secret_basic
-- (the Authorization header is passed to wrk with -H by run.sh).
dofile(os.getenv("BENCH_LUA_LIB"))
wrk.method = "POST"
wrk.path = "/connect/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials"
