-- U2, U3, U4: GET BENCH_PATH (a users list page or a search), the same request every time. The admin Bearer token
-- comes from scale.sh via -H.
dofile(os.getenv("BENCH_LUA_LIB"))
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
