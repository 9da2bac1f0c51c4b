#!/usr/bin/env python3
"""Generates users straight into a migrated ScaiKey database with one SQL statement per tenant.

    tools/perf/scale-data.py sqlite   TENANT_ID COUNT [FIRST_N] | sqlite3 /path/scaikey.db
    tools/perf/scale-data.py postgres TENANT_ID COUNT [FIRST_N] | psql -v ON_ERROR_STOP=1 "$URL"

Plain INSERT ... SELECT, the way a bulk importer writes: the database triggers keep tenant_user_counts and the
search index current. The tenant must exist (create it through the API). Rows are deterministic in n:
  email      user<n>@example.com           (search "user12345": ~11 rows of a million)
  last_name  one of 100 surnames, n % 100  (search "hernandez": 1 %)
  display    "<first> <last> (T<n % 10000>)" (search "t0042": 0.01 %)
  status     ~97 % ACTIVE, 1 % each PENDING_EMAIL_VERIFICATION, DISABLED; 0.1 % LOCKED
  deleted_at set on 0.5 % (soft-deleted); created_at one second apart from 2024-01-01.
"""
import sys

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
         "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra "
         "Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy "
         "George Melissa Timothy Deborah").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
        "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
        "Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris "
        "Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
        "Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders "
        "Patel Myers Long Ross Foster Jenkins").split()
assert len(LAST) == 100 and len(FIRST) == 50


def array_sqlite(values):
    # json_extract over a JSON array literal: SQLite has no arrays.
    return "'[" + ",".join('"%s"' % v for v in values) + "]'"


def main():
    dialect, tenant, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first_n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    last_n = first_n + count - 1
    status = ("CASE WHEN n % 1000 = 7 THEN 'LOCKED' WHEN n % 100 = 3 THEN 'DISABLED' "
              "WHEN n % 100 = 5 THEN 'PENDING_EMAIL_VERIFICATION' ELSE 'ACTIVE' END")
    if dialect == "sqlite":
        first = f"json_extract({array_sqlite(FIRST)}, '$[' || ((n * 7) % 50) || ']')"
        last = f"json_extract({array_sqlite(LAST)}, '$[' || (n % 100) || ']')"
        print("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY; BEGIN;")
        print(f"""
WITH RECURSIVE seq(n) AS (SELECT {first_n} UNION ALL SELECT n + 1 FROM seq WHERE n < {last_n}),
rows AS (SELECT n, {first} AS fn, {last} AS ln, 'user' || n || '@example.com' AS email,
                'T' || printf('%04d', n % 10000) AS team FROM seq)
INSERT INTO users (id, tenant_id, email, email_normalized, username, username_normalized, first_name, last_name,
    display_name, locale, timezone, email_verified, status, identity_source, mfa_enabled, require_password_change,
    failed_login_attempts, search_text, created_at, last_login_at, deleted_at, version)
SELECT printf('%s-%012x', substr('{tenant}', 1, 23), n), '{tenant}', email, email, lower(fn) || '.' || lower(ln) || n,
    lower(fn) || '.' || lower(ln) || n, fn, ln, fn || ' ' || ln || ' (' || team || ')', 'en', 'UTC', 1, {status}, 'LOCAL',
    n % 10 = 0, 0, 0,
    lower(email || char(10) || fn || '.' || ln || n || char(10) || fn || char(10) || ln || char(10) || fn || ' ' || ln || ' (' || team || ')'),
    strftime('%Y-%m-%d %H:%M:%S', 1704067200 + n, 'unixepoch'),
    CASE WHEN n % 3 = 0 THEN strftime('%Y-%m-%d %H:%M:%S', 1735689600 + n * 7, 'unixepoch') END,
    CASE WHEN n % 200 = 11 THEN '2025-06-01 00:00:00' END, 1
FROM rows;""")
        print("COMMIT; ANALYZE;")
    elif dialect == "postgres":
        first = "(ARRAY[" + ",".join(f"'{v}'" for v in FIRST) + "])[(n * 7) % 50 + 1]"
        last = "(ARRAY[" + ",".join(f"'{v}'" for v in LAST) + "])[n % 100 + 1]"
        print(f"""
INSERT INTO users (id, tenant_id, email, email_normalized, username, username_normalized, first_name, last_name,
    display_name, locale, timezone, email_verified, status, identity_source, mfa_enabled, require_password_change,
    failed_login_attempts, search_text, created_at, last_login_at, deleted_at, version)
SELECT substr('{tenant}', 1, 23) || '-' || lpad(to_hex(n), 12, '0'), '{tenant}', email, email,
    lower(fn) || '.' || lower(ln) || n, lower(fn) || '.' || lower(ln) || n, fn, ln, fn || ' ' || ln || ' (' || team || ')',
    'en', 'UTC', true, {status}, 'LOCAL', n % 10 = 0, false, 0,
    lower(email || chr(10) || fn || '.' || ln || n || chr(10) || fn || chr(10) || ln || chr(10) || fn || ' ' || ln || ' (' || team || ')'),
    timestamptz '2024-01-01 00:00:00+00' + n * interval '1 second',
    CASE WHEN n % 3 = 0 THEN timestamptz '2025-01-01 00:00:00+00' + n * interval '7 seconds' END,
    CASE WHEN n % 200 = 11 THEN timestamptz '2025-06-01 00:00:00+00' END, 1
FROM (SELECT n, {first} AS fn, {last} AS ln, 'user' || n || '@example.com' AS email,
             'T' || lpad((n % 10000)::text, 4, '0') AS team
      FROM generate_series({first_n}, {last_n}) AS n) AS r;
VACUUM ANALYZE users;""")
    else:
        sys.exit(__doc__)


main()
