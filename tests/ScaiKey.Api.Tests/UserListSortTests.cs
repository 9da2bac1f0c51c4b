using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Every sort_by of the user list read from an index (issue 18, migration ListSortIndexes): the nullable keys as two
/// walks (the users with a value, then the others by id) that must give exactly the one nulls-last order, and the
/// query plans of every walk on this database.
/// </summary>
public sealed partial class UserListSortTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static List<string> IdsOf(JsonNode page) => page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    // Seven users: four with a value (two of them tied, so ties go by id), three without.
    private static readonly string?[] Names = ["pear", "Apple", null, "apple", null, "zebra", null];
    private static readonly DateTime?[] Times =
    [
        new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), null,
        new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), null, new DateTime(2025, 5, 1, 0, 0, 0, DateTimeKind.Utc), null,
    ];

    [Theory]
    [InlineData("updated_at")]
    [InlineData("last_login_at")]
    [InlineData("display_name")]
    [InlineData("last_name")]
    public async Task Nulls_last_sorts_page_through_the_users_with_a_value_then_the_others_by_id_both_ways(string sortBy)
    {
        var tenant = await app.CreateTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < Names.Length; i++)
        {
            ids.Add((await app.CreateUserAsync(tenant, new { email = $"sort{i}@example.com" }))["id"]!.GetValue<string>());
        }

        await app.DbAsync(async db =>
        {
            for (var i = 0; i < ids.Count; i++)
            {
                var user = await db.Users.SingleAsync(u => u.Id == ids[i]);
                (user.UpdatedAt, user.LastLoginAt, user.DisplayName, user.LastName) = (Times[i], Times[i], Names[i], Names[i]);
            }

            await db.SaveChangesAsync();
        });

        var byTime = sortBy is "updated_at" or "last_login_at";
        var withValue = Enumerable.Range(0, ids.Count).Where(i => byTime ? Times[i] is not null : Names[i] is not null).ToList();
        var without = Enumerable.Range(0, ids.Count).Except(withValue).ToList();
        int Compare(int a, int b)
        {
            var byKey = byTime ? Nullable.Compare(Times[a], Times[b]) : string.CompareOrdinal(Names[a]!.ToLowerInvariant(), Names[b]!.ToLowerInvariant());
            return byKey != 0 ? byKey : string.CompareOrdinal(ids[a], ids[b]);
        }

        withValue.Sort(Compare);
        without.Sort((a, b) => string.CompareOrdinal(ids[a], ids[b]));
        var ascending = withValue.Concat(without).Select(i => ids[i]).ToList();
        var descending = Enumerable.Reverse(withValue).Concat(Enumerable.Reverse(without)).Select(i => ids[i]).ToList();

        using var admin = await app.AdminAsync();
        foreach (var (order, expected) in new[] { ("asc", ascending), ("desc", descending) })
        {
            // Pages of 2 end exactly where the users without a value begin; pages of 3 cross it; the last page of
            // each starts past every user with a value (the count path).
            foreach (var perPage in new[] { 2, 3, 7 })
            {
                var seen = new List<string>();
                for (var page = 1; page <= 4; page++)
                {
                    var json = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?sort_by={sortBy}&sort_order={order}&per_page={perPage}&page={page}")).ReadJsonAsync(200);
                    Assert.Equal(7, json["pagination"]!["total_items"]!.GetValue<int>());
                    seen.AddRange(IdsOf(json));
                }

                Assert.Equal(expected, seen);
            }
        }
    }

    [Fact]
    public async Task Every_sort_and_the_mfa_and_ou_filters_have_their_index()
    {
        var names = await app.DbAsync(db => TestDatabase.IsPostgres
            ? db.Database.SqlQueryRaw<string>("SELECT indexname::text AS \"Value\" FROM pg_indexes WHERE tablename = 'users'").ToListAsync()
            : db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'").ToListAsync());
        string[] expected =
        [
            "ix_users_tenant_id_updated_at_id", "ix_users_tenant_id_last_login_at_id", "ix_users_tenant_id_status_id",
            "ix_users_tenant_id_mfa_enabled_created_at_id", "ix_users_tenant_id_ou_id_created_at_id", "ix_users_tenant_id_email_normalized_id",
            .. NameSortIndexes.Names,
        ];
        Assert.All(expected, name => Assert.Contains(name, names));
    }

    // PostgreSQL reads an expression index index-only only when the column itself is in it: without the name in
    // INCLUDE a deep page of a name sort fetched a heap row per entry it skipped.
    [Fact]
    public async Task On_postgres_the_name_sort_indexes_carry_the_name_for_index_only_walks()
    {
        if (!TestDatabase.IsPostgres)
        {
            return;
        }

        var definitions = await app.DbAsync(db => db.Database.SqlQueryRaw<string>(
            "SELECT indexdef::text AS \"Value\" FROM pg_indexes WHERE tablename = 'users' AND indexname LIKE 'ix_users_tenant_id_lower_%'").ToListAsync());
        Assert.Equal(NameSortIndexes.Columns.Length, definitions.Count);
        Assert.All(NameSortIndexes.Columns, c => Assert.Contains(definitions, d => d.Contains($"lower(({c})::text)", StringComparison.Ordinal)
            && d.Contains($"INCLUDE ({c})", StringComparison.Ordinal)));
    }

    // The index each walk of a page reads (a nullable key has two walks: with a value, then without).
    [Theory]
    [InlineData("created_at", "ix_users_tenant_id_created_at_id")]
    [InlineData("updated_at", "ix_users_tenant_id_updated_at_id", "ix_users_tenant_id_updated_at_id")]
    [InlineData("email", "ix_users_tenant_id_email_normalized_id")]
    [InlineData("display_name", "ix_users_tenant_id_lower_display_name_id", "ix_users_tenant_id_id_no_display_name")]
    [InlineData("last_name", "ix_users_tenant_id_lower_last_name_id", "ix_users_tenant_id_id_no_last_name")]
    [InlineData("last_login_at", "ix_users_tenant_id_last_login_at_id", "ix_users_tenant_id_last_login_at_id")]
    [InlineData("status", "ix_users_tenant_id_status_id")]
    public async Task Each_walk_of_a_sorted_page_reads_its_index_in_order_without_sorting(string sortBy, params string[] indexes)
    {
        foreach (var descending in new[] { false, true })
        {
            var plans = await app.DbAsync(async db =>
            {
                var users = db.Users.AsNoTracking().Where(u => u.TenantId == "plan-tenant" && u.DeletedAt == null);
                var result = new List<string>();
                foreach (var walk in UserReads.PageWalks(users, sortBy, descending))
                {
                    result.Add(await PlanAsync(db, walk.Skip(40).Take(20).Select(u => u.Id).ToQueryString()));
                }

                return result;
            });

            Assert.Equal(indexes.Length, plans.Count);
            for (var i = 0; i < plans.Count; i++)
            {
                var plan = plans[i];
                // The users without a value come in id order from the key's index (key IS NULL) or, on an empty
                // PostgreSQL table where the costs tie, from the primary key; either way no sort.
                var reads = plan.Contains(indexes[i], StringComparison.Ordinal)
                    || (TestDatabase.IsPostgres && i == 1 && plan.Contains("using pk_users", StringComparison.Ordinal))
                    // SQLite may prefer the unique (tenant_id, email_normalized) index, whose order it knows to be total;
                    // in order too, and without a sort (checked below).
                    || (!TestDatabase.IsPostgres && sortBy == "email" && plan.Contains("INDEX ix_users_tenant_id_email_normalized ", StringComparison.Ordinal));
                Assert.True(reads, $"{sortBy} desc={descending} walk {i} does not read {indexes[i]}:\n{plan}");

                // No sort at all, not even of ties by id (email has its own (tenant_id, email_normalized, id) index).
                var sorts = TestDatabase.IsPostgres
                    ? plan.Split('\n').Any(line => SortNode().IsMatch(line))
                    : plan.Contains("TEMP B-TREE", StringComparison.Ordinal);
                Assert.False(sorts, $"{sortBy} desc={descending} walk {i} sorts:\n{plan}");
            }
        }
    }

    // On SQLite an "ou_id IS NOT NULL" beside the OU filter's IN list made the planner read the range ou_id > NULL of
    // (tenant_id, ou_id), every user with an OU and its row (1.9 s to count a division among a million users), instead
    // of probing the partial (tenant_id, ou_id, created_at, id) index once per unit.
    [Fact]
    public async Task On_sqlite_an_ou_filter_probes_each_unit_instead_of_reading_every_user_with_an_ou()
    {
        if (TestDatabase.IsPostgres)
        {
            return;
        }

        using var scope = app.Host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var reads = scope.ServiceProvider.GetRequiredService<UserReads>();
        var users = reads.Filter(new UserListFilter(null, null, ["plan-ou-1", "plan-ou-2"], null, null)).Where(u => u.TenantId == "plan-tenant");
        var plan = await PlanAsync(db, users.Select(u => u.Id).ToQueryString());
        Assert.DoesNotContain("ou_id>?", plan, StringComparison.Ordinal);
        Assert.Contains("ou_id=?", plan, StringComparison.Ordinal);
    }

    /// <summary>The plan of a query as EF writes it, its parameters put in as literals; on PostgreSQL with scans and sorts discouraged, so an empty table still shows the index that can give the order.</summary>
    private static async Task<string> PlanAsync(ScaiKeyDbContext db, string queryString)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var sql = new List<string>();
        foreach (var line in queryString.Split('\n'))
        {
            if (SqliteParameter().Match(line) is { Success: true } s)
            {
                parameters[s.Groups[1].Value] = s.Groups[2].Value.Trim();
            }
            else if (PostgresParameter().Match(line) is { Success: true } p)
            {
                parameters[p.Groups[1].Value] = p.Groups[2].Value;
            }
            else
            {
                sql.Add(line);
            }
        }

        var text = string.Join('\n', sql);
        foreach (var (name, value) in parameters.OrderByDescending(p => p.Key.Length))
        {
            text = text.Replace(name, value, StringComparison.Ordinal);
        }

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            if (TestDatabase.IsPostgres)
            {
                await Execute(connection, "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off");
            }

            await using var command = connection.CreateCommand();
            command.CommandText = (TestDatabase.IsPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + text;
            await using var reader = await command.ExecuteReaderAsync();
            var lines = new List<string>();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(TestDatabase.IsPostgres ? 0 : 3));
            }

            return string.Join('\n', lines) + "\n-- " + text;
        }
        finally
        {
            if (TestDatabase.IsPostgres)
            {
                await Execute(connection, "RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_sort");
            }

            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task Execute(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [GeneratedRegex(@"^\.param set (@\w+) (.*)$")]
    private static partial Regex SqliteParameter();

    [GeneratedRegex(@"^-- (@\w+)='(.*?)'")]
    private static partial Regex PostgresParameter();

    [GeneratedRegex(@"^\s*(->\s*)?(Incremental )?Sort\s+\(")]
    private static partial Regex SortNode();
}
