#!/usr/bin/env python3
"""Generates users straight into a migrated ScaiKey database with one SQL statement per tenant.

    tools/perf/scale-data.py sqlite   TENANT_ID COUNT [FIRST_N] | sqlite3 /path/scaikey.db
    tools/perf/scale-data.py postgres TENANT_ID COUNT [FIRST_N] | psql -v ON_ERROR_STOP=1 "$URL"
    tools/perf/scale-data.py sqlite-extras   TENANT_ID | sqlite3 /path/scaikey.db
    tools/perf/scale-data.py postgres-extras TENANT_ID | psql -v ON_ERROR_STOP=1 "$URL"

Plain INSERT ... SELECT, the way a bulk importer writes: the database triggers keep tenant_user_counts and the
search index current. The tenant must exist (create it through the API). Rows are deterministic in n:
  email      user<n>@example.com           (search "user12345": ~11 rows of a million)
  last_name  one of 100 surnames, n % 100  (search "hernandez": 1 %)
  display    "<first> <last> (T<n % 10000>)" (search "t0042": 0.01 %)
  status     ~97 % ACTIVE, 1 % each PENDING_EMAIL_VERIFICATION, DISABLED; 0.1 % LOCKED
  deleted_at set on 0.5 % (soft-deleted); created_at one second apart from 2024-01-01.

The *-extras modes give the live users of a tenant already filled (by the modes above or by `scaikey seed`, which
bench/scale.sh uses) what the list's filters look for (issue 18), numbering them n = 1, 2, ... by (created_at, id):
  OUs        10 divisions "/Division d", each with 10 departments "/Division d/Department d.j" (110 OUs);
             95 % of users sit in a department ((7n) % 100), 5 % in no OU (n % 20 = 0): ou_id of a division
             matches ~9.5 % (its subtree), of a department ~0.95 %
  groups     10 teams "Team t", each the parent of 3 squads "Squad t.s" (40 groups, nested one level); 30 % of users
             are in one squad (n % 10 < 3, squad (13n) % 30, ~1 % each), 1 % directly in a team (n % 100 = 50):
             group_id of a team matches ~4 % (3 squads and its own members), of a squad ~1 %
  MFA        12 % (n % 25 in 1, 2, 3) mfa_enabled with one confirmed TOTP factor (a placeholder secret the service
             cannot open: these users cannot pass a second factor; the list only reads mfa_enabled); 88 % without
  updated_at 20 % (n % 5 = 0) edited n minutes after creation; the others never (NULL, sorted last)
One UPDATE and three INSERT ... SELECT; the counters and search index are untouched (none of their columns change).
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


def extras(dialect, tenant):
    """OUs, nested groups, memberships, MFA factors and edits for the live users of TENANT (see the header)."""
    pfx = tenant[:20]
    if dialect == "sqlite":
        now = "strftime('%Y-%m-%d %H:%M:%S', 'now')"
        edited = "strftime('%Y-%m-%d %H:%M:%S', users.created_at, '+' || s.n || ' minutes')"
        print("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY; BEGIN;")
        seq = lambda hi: f"(WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {hi - 1}) SELECT i FROM k)"
    else:
        now = "now()"
        edited = "users.created_at + s.n * interval '1 minute'"
        print("BEGIN;")
        seq = lambda hi: f"(SELECT i FROM generate_series(0, {hi - 1}) AS i)"
    # PostgreSQL: the directory-version row trigger would update the tenant's one version row once per user in one
    # transaction (a million versions of one row, each update walking the chain: it ran for over 20 minutes), so it
    # is paused for the UPDATE and the version raised once instead. SQLite updates the row in place.
    pause = "" if dialect == "sqlite" else "ALTER TABLE users DISABLE TRIGGER users_version_update;\n"
    resume = "" if dialect == "sqlite" else (
        f"ALTER TABLE users ENABLE TRIGGER users_version_update;\n"
        f"UPDATE tenant_directory_versions SET version = version + 1 WHERE tenant_id = '{tenant}';\n")
    # Division d is ou-d, department d.j is ou-(10 + 10d + j); team t is g-t, squad t.s is g-(10 + 3t + s).
    print(f"""
INSERT INTO organizational_units (id, tenant_id, parent_id, name, path, created_at)
SELECT '{pfx}-ou-' || i, '{tenant}', NULL, 'Division ' || i, '/Division ' || i, {now} FROM {seq(10)} AS d;
INSERT INTO organizational_units (id, tenant_id, parent_id, name, path, created_at)
SELECT '{pfx}-ou-' || (10 + i), '{tenant}', '{pfx}-ou-' || (i / 10), 'Department ' || (i / 10) || '.' || (i % 10),
    '/Division ' || (i / 10) || '/Department ' || (i / 10) || '.' || (i % 10), {now} FROM {seq(100)} AS d;
INSERT INTO groups (id, tenant_id, parent_group_id, name, description, created_at, identity_source)
SELECT '{pfx}-g-' || i, '{tenant}', NULL, 'Team ' || i, NULL, {now}, 'LOCAL' FROM {seq(10)} AS t;
INSERT INTO groups (id, tenant_id, parent_group_id, name, description, created_at, identity_source)
SELECT '{pfx}-g-' || (10 + i), '{tenant}', '{pfx}-g-' || (i / 3), 'Squad ' || (i / 3) || '.' || (i % 3), NULL, {now}, 'LOCAL'
FROM {seq(30)} AS s;
CREATE TEMP TABLE seeded_n AS
SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM users WHERE tenant_id = '{tenant}' AND deleted_at IS NULL;
{pause}UPDATE users SET
    ou_id = CASE WHEN s.n % 20 = 0 THEN NULL ELSE '{pfx}-ou-' || (10 + (7 * s.n) % 100) END,
    mfa_enabled = (s.n % 25 BETWEEN 1 AND 3),
    updated_at = CASE WHEN s.n % 5 = 0 THEN {edited} END
FROM seeded_n AS s WHERE users.id = s.id;
INSERT INTO group_members (group_id, user_id, tenant_id, created_at)
SELECT '{pfx}-g-' || (10 + (13 * n) % 30), id, '{tenant}', {now} FROM seeded_n WHERE n % 10 < 3;
INSERT INTO group_members (group_id, user_id, tenant_id, created_at)
SELECT '{pfx}-g-' || ((n / 100) % 10), id, '{tenant}', {now} FROM seeded_n WHERE n % 100 = 50;
INSERT INTO mfa_factors (id, tenant_id, user_id, type, name, secret_encrypted, created_at, confirmed_at, sign_count)
SELECT '{pfx}-mfa-' || n, '{tenant}', id, 'TOTP', 'Authenticator', 'bench-placeholder', {now}, {now}, 0
FROM seeded_n WHERE n % 25 BETWEEN 1 AND 3;
DROP TABLE seeded_n;
{resume}COMMIT;""")
    print("ANALYZE;" if dialect == "sqlite" else "VACUUM ANALYZE users; VACUUM ANALYZE group_members;")


def main():
    if sys.argv[1:2] and sys.argv[1].endswith("-extras"):
        return extras(sys.argv[1].removesuffix("-extras"), sys.argv[2])
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
