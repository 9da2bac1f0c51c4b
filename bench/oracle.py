#!/usr/bin/env python3
"""Times failed password sign-ins, interleaved, over one keep-alive connection (bench/oracle.sh starts the service).

usage: oracle.py BASE CLIENT_ID CLIENT_SECRET ATTEMPTS WARMUP SCENARIO=EMAIL:PASSWORD[,EMAIL:PASSWORD...] ...

Each round sends one attempt of every scenario in a shuffled order (a scenario with several EMAIL:PASSWORD pairs
takes them in turn), so drift on the shared machine hits all scenarios alike. The first WARMUP rounds are not
counted. Prints per scenario "NAME n= median_ms p10_ms p90_ms status" and, against the first scenario, the
median's deviation and the median of the per-round ratios (paired, less moved by load bursts); exits 1 if any answer's status or body differs from the first scenario's.
"""
import base64
import http.client
import random
import statistics
import sys
import time
import urllib.parse


def main() -> int:
    base, client_id, secret, attempts, warmup = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    scenarios = []
    for arg in sys.argv[6:]:
        name, pairs = arg.split("=", 1)
        scenarios.append((name, [tuple(p.split(":", 1)) for p in pairs.split(",")]))

    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}

    def attempt(email: str, password: str):
        body = urllib.parse.urlencode({"grant_type": "password", "username": email, "password": password, "scope": "openid"})
        started = time.perf_counter_ns()
        connection.request("POST", "/connect/token", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter_ns() - started) / 1e6
        return elapsed, response.status, response.getheader("Content-Type"), payload

    rng = random.Random(13)
    times = {name: [] for name, _ in scenarios}
    rounds = []  # per counted round: {name: ms}, for the paired comparison
    answers = {name: set() for name, _ in scenarios}
    turn = {name: 0 for name, _ in scenarios}
    for round_no in range(warmup + attempts):
        this_round = {}
        order = list(scenarios)
        rng.shuffle(order)
        for name, pairs in order:
            email, password = pairs[turn[name] % len(pairs)]
            turn[name] += 1
            elapsed, status, content_type, payload = attempt(email, password)
            answers[name].add((status, content_type, payload))
            if round_no >= warmup:
                times[name].append(elapsed)
                this_round[name] = elapsed
        if this_round:
            rounds.append(this_round)

    reference_name = scenarios[0][0]
    reference_median = statistics.median(times[reference_name])
    reference_answer = answers[reference_name]
    identical = True
    for name, _ in scenarios:
        t = sorted(times[name])
        median = statistics.median(t)
        p10, p90 = t[len(t) // 10], t[(len(t) * 9) // 10]
        statuses = ",".join(sorted({str(a[0]) for a in answers[name]}))
        same = answers[name] == reference_answer and len(answers[name]) == 1
        identical &= same
        deviation = (median - reference_median) / reference_median * 100
        # Paired: within one round the machine's load is about the same for every scenario, so the median of the
        # per-round ratios is far less moved by load bursts than the ratio of the medians.
        paired = (statistics.median(r[name] / r[reference_name] for r in rounds) - 1) * 100
        print(f"ORACLE {name} n={len(t)} median_ms={median:.2f} p10_ms={p10:.2f} p90_ms={p90:.2f} status={statuses} "
              f"same_answer={'yes' if same else 'NO'} median_vs_{reference_name}={deviation:+.1f}% paired_vs_{reference_name}={paired:+.1f}%")

    for (status, content_type, payload) in reference_answer:
        print(f"# answer: {status} {content_type} {payload.decode(errors='replace')}")
    spread = max(abs(statistics.median(times[n]) - reference_median) / reference_median * 100 for n, _ in scenarios)
    print(f"ORACLE largest median deviation {spread:.1f}% ({'within' if spread <= 10 else 'OVER'} 10 %), answers {'identical' if identical else 'DIFFER'}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
