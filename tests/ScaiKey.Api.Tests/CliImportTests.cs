using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Cli;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// `scaikey import`: CSV and JSON Lines through the API's validation, per-row error reports, uniqueness within the
/// file and against the tenant, batches that commit whole, and resuming after an interruption.
/// </summary>
public sealed class CliImportTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static string Line(object row) => JsonSerializer.Serialize(row);

    private async Task<JsonNode> ListAsync(string tenant, string query = "")
    {
        using var admin = await app.AdminAsync();
        return await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?per_page=100{query}")).ReadJsonAsync(200);
    }

    private Task<List<User>> UsersAsync(string tenant) =>
        app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.TenantId == tenant).OrderBy(u => u.EmailNormalized).ToListAsync());

    [Fact]
    public async Task On_postgres_an_import_ends_with_vacuum_analyze_of_users()
    {
        if (!TestDatabase.IsPostgres)
        {
            // SQLite has no visibility map or planner statistics for a bulk load to leave behind.
            return;
        }

        Task<long> VacuumsAsync() => app.DbAsync(db => db.Database.SqlQueryRaw<long>(
            "SELECT vacuum_count AS \"Value\" FROM pg_stat_user_tables WHERE relname = 'users'").SingleAsync());
        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "vacuum.jsonl");
        await File.WriteAllTextAsync(file, "{\"email\": \"vacuum1@example.com\"}\n{\"email\": \"vacuum2@example.com\"}\n");
        var before = await VacuumsAsync();

        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(await VacuumsAsync() > before, "users was not vacuumed after the import");
    }

    [Fact]
    public async Task Csv_rows_become_users_the_API_lists_and_reads()
    {
        var tenant = await app.CreateTenantAsync();
        var engineers = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Engineers" });
        var sales = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Sales" });
        var ou = await app.CreateAsync($"/api/v1/tenants/{tenant}/ous", new { name = "Research" });
        var file = Path.Combine(app.WorkFolder(), "users.csv");
        await File.WriteAllTextAsync(file, string.Join("\n",
            "email,username,first_name,last_name,display_name,phone,locale,timezone,ou_id,group_ids,custom_attributes,require_password_change",
            $"ada@Example.COM,ada,Ada,Lovelace,\"Lovelace, Ada\",+14155550123,en-GB,Europe/London,{ou},{engineers};{sales},\"{{\"\"badge\"\": 7}}\",true",
            "grace@example.com,,Grace,Hopper,,,,,,,,",
            "") + "\n");

        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);
        Assert.True(result.ExitCode == 0, result.Error);

        var list = await ListAsync(tenant, "&search=lovelace");
        var listed = Assert.Single(list["data"]!.AsArray());
        using var admin = await app.AdminAsync();
        var ada = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{listed!["id"]}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal("ada@example.com", ada["email"]!.GetValue<string>());
        Assert.Equal("ada", ada["username"]!.GetValue<string>());
        Assert.Equal("Lovelace, Ada", ada["display_name"]!.GetValue<string>());
        Assert.Equal("+14155550123", ada["phone"]!.GetValue<string>());
        Assert.Equal("en-GB", ada["locale"]!.GetValue<string>());
        Assert.Equal("Europe/London", ada["timezone"]!.GetValue<string>());
        Assert.Equal("/Research", ada["ou_path"]!.GetValue<string>());
        Assert.Equal(7, ada["custom_attributes"]!["badge"]!.GetValue<int>());
        Assert.Equal("PENDING_EMAIL_VERIFICATION", ada["status"]!.GetValue<string>());
        Assert.Equal("LOCAL", ada["identity_source"]!.GetValue<string>());
        Assert.Equal(["Engineers", "Sales"], ada["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).ToArray());

        var grace = Assert.Single((await ListAsync(tenant, "&search=hopper"))["data"]!.AsArray());
        Assert.Equal("grace@example.com", grace!["email"]!.GetValue<string>());
        Assert.Equal(2, (await ListAsync(tenant))["pagination"]!["total_items"]!.GetValue<int>());

        // No emails for imported users: invitations are the API's business.
        Assert.Equal(0, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.TenantId == tenant)));
    }

    [Fact]
    public async Task An_imported_row_is_stored_like_the_same_user_created_through_the_API()
    {
        var tenant = await app.CreateTenantAsync();
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Staff" });
        var body = new Dictionary<string, object?>
        {
            ["username"] = "twin", ["first_name"] = "Twin", ["last_name"] = "Example", ["display_name"] = "T. Example",
            ["phone"] = "+4930123456", ["locale"] = "de", ["timezone"] = "Europe/Berlin", ["group_ids"] = new[] { group },
            ["custom_attributes"] = new { team = "a" }, ["password"] = "Quartz-Lantern-93!", ["require_password_change"] = true,
        };
        var viaApi = await app.CreateUserAsync(tenant, new Dictionary<string, object?>(body) { ["email"] = "twin.api@example.com" });
        var file = Path.Combine(app.WorkFolder(), "twin.jsonl");
        body["username"] = "twin2";
        await File.WriteAllTextAsync(file, Line(new Dictionary<string, object?>(body) { ["email"] = "twin.cli@example.com" }) + "\n");
        Assert.Equal(0, (await app.RunCliAsync(["import", "--tenant", tenant, file])).ExitCode);

        var users = await UsersAsync(tenant);
        var api = users.Single(u => u.Id == viaApi["id"]!.GetValue<string>());
        var cli = users.Single(u => u.Id != api.Id);
        foreach (var property in typeof(User).GetProperties())
        {
            if (property.Name is nameof(User.Id) or nameof(User.Email) or nameof(User.EmailNormalized) or nameof(User.Username)
                or nameof(User.UsernameNormalized) or nameof(User.SearchText) or nameof(User.CreatedAt) or nameof(User.PasswordHash)
                or nameof(User.PasswordChangedAt))
            {
                continue;
            }

            Assert.True(Equals(property.GetValue(api), property.GetValue(cli)), $"{property.Name}: API {property.GetValue(api)}, import {property.GetValue(cli)}");
        }

        Assert.Equal(api.SearchText.Replace("twin.api", "twin.cli").Replace("\ntwin\n", "\ntwin2\n"), cli.SearchText);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", cli.PasswordHash, StringComparison.Ordinal);
        Assert.NotNull(cli.PasswordChangedAt);
        Assert.Equal(cli.CreatedAt, cli.PasswordChangedAt);
        var memberships = await app.DbAsync(db => db.GroupMembers.AsNoTracking().Where(m => m.TenantId == tenant).ToListAsync());
        Assert.Equal(new[] { api.Id, cli.Id }.Order(StringComparer.Ordinal), memberships.Select(m => m.UserId).Order(StringComparer.Ordinal));
        Assert.All(memberships, m => Assert.Equal(group, m.GroupId));
    }

    [Fact]
    public async Task Invalid_rows_are_reported_per_line_and_not_written_while_valid_rows_are()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserIdAsync(tenant, "taken@example.com");
        var folder = app.WorkFolder();
        var file = Path.Combine(folder, "mixed.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            Line(new { email = "ok1@example.com", first_name = "Ok" }),                      // 1 ok
            Line(new { email = "not-an-email" }),                                             // 2 email
            Line(new { email = "ok2@example.com", favourite_colour = "blue" }),              // 3 extra field
            "{\"email\": \"broken@example.com\",",                                            // 4 bad JSON
            Line(new { email = "OK1@example.com" }),                                          // 5 duplicate in file
            Line(new { email = "taken@EXAMPLE.com" }),                                        // 6 duplicate in tenant
            Line(new { email = "weak@example.com", password = "short" }),                    // 7 password policy
            Line(new { email = "grouped@example.com", group_ids = new[] { "no-such-group" } }), // 8 unknown group
            Line(new { email = "ok3@example.com", username = "ok1", locale = "english!" }),   // 9 locale
            "",                                                                               // 10 blank: skipped
            Line(new { email = "ok4@example.com", username = "ok4", timezone = "Europe/Paris" }), // 11 ok
            "[1, 2]",                                                                         // 12 not an object
        ]);

        var result = await app.RunCliAsync(["import", "--tenant", tenant, "--errors", Path.Combine(folder, "report.jsonl"), file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, result.ExitCode);

        var report = CliHarness.ErrorReport(Path.Combine(folder, "report.jsonl"));
        string Errors(int line) => string.Join(" ", report.Single(r => r["line"]!.GetValue<int>() == line)["detail"]!.AsArray()
            .Select(e => string.Join(".", e!["loc"]!.AsArray().Select(l => l!.ToString())) + "|" + e["type"]!.GetValue<string>()));
        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 9, 12], report.Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.Equal("email|value_error", Errors(2));
        Assert.Equal("favourite_colour|extra_forbidden", Errors(3));
        Assert.Equal("json_invalid", Errors(4).Split('|')[1]);
        Assert.Equal("email|value_error", Errors(5));
        Assert.Contains("line 1", report.Single(r => r["line"]!.GetValue<int>() == 5)["detail"]![0]!["msg"]!.GetValue<string>());
        Assert.Equal("email|value_error", Errors(6));
        Assert.StartsWith("password|value_error", Errors(7));
        Assert.Equal("group_ids.0|value_error", Errors(8));
        Assert.Equal("locale|value_error", Errors(9));
        Assert.Equal("|dict_type", Errors(12));
        Assert.StartsWith("value is not a valid email address: ", report[0]["detail"]![0]!["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.All(report.SelectMany(r => r["detail"]!.AsArray()), e => Assert.False(string.IsNullOrEmpty(e!["msg"]!.GetValue<string>())));

        // Exactly the valid rows were written, next to the user that was there before.
        var emails = (await UsersAsync(tenant)).Select(u => u.EmailNormalized).ToArray();
        Assert.Equal(["ok1@example.com", "ok4@example.com", "taken@example.com"], emails);
        Assert.Equal(3, (await ListAsync(tenant))["pagination"]!["total_items"]!.GetValue<int>());
        var events = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenant && e.Action == ImportCommand.AuditAction).ToListAsync());
        var batch = Assert.Single(events);
        Assert.Contains("2 users imported, 9 rows rejected", batch.Reason);
    }

    [Fact]
    public async Task Duplicate_usernames_in_the_file_and_in_the_tenant_are_row_errors()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserAsync(tenant, new { email = "owner@example.com", username = "Owner" });
        var file = Path.Combine(app.WorkFolder(), "names.csv");
        await File.WriteAllLinesAsync(file, ["email,username", "a@example.com,owner", "b@example.com,bee", "c@example.com,BEE"]);

        var result = await app.RunCliAsync(["import", "--tenant", tenant, file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, result.ExitCode);
        var report = CliHarness.ErrorReport(file + ".errors.jsonl");
        Assert.Equal([2, 4], report.Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.All(report, r => Assert.Equal("username", r["detail"]![0]!["loc"]![0]!.GetValue<string>()));
        Assert.Equal(["b@example.com", "owner@example.com"], (await UsersAsync(tenant)).Select(u => u.EmailNormalized).ToArray());
    }

    [Fact]
    public async Task An_interrupted_import_resumes_after_the_last_committed_batch_without_duplicates()
    {
        var tenant = await app.CreateTenantAsync();
        var folder = app.WorkFolder();
        var file = Path.Combine(folder, "resume.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(1, 12).Select(i =>
            i == 7 ? Line(new { email = "bad" }) : Line(new { email = $"r{i}@example.com", last_name = "Resume" })));

        // The process dies inside the second batch's transaction: a crash before the commit.
        var crash = new CliHooks { BeforeCommitAsync = (batch, _) => batch == 2 ? throw new IOException("simulated crash") : Task.CompletedTask };
        await Assert.ThrowsAsync<IOException>(() => app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "5", file], crash));
        Assert.Equal(5, (await UsersAsync(tenant)).Count);
        Assert.Empty(CliHarness.ErrorReport(file + ".errors.jsonl"));
        var checkpoint = JsonNode.Parse(await File.ReadAllTextAsync(file + ".checkpoint"))!;
        Assert.Equal(5, checkpoint["committed_line"]!.GetValue<int>());

        var resumed = await app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "5", file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, resumed.ExitCode);
        Assert.Contains("Resuming after line 5", resumed.Error);
        var users = await UsersAsync(tenant);
        Assert.Equal(11, users.Count);
        Assert.Equal(11, users.Select(u => u.EmailNormalized).Distinct().Count());
        Assert.Equal([7], CliHarness.ErrorReport(file + ".errors.jsonl").Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.Equal(3, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TenantId == tenant && e.Action == ImportCommand.AuditAction)));

        // Once complete, the same command changes nothing.
        var again = await app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "5", file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, again.ExitCode);
        Assert.Contains("imported already", again.Error);
        Assert.Equal(11, (await UsersAsync(tenant)).Count);
    }

    [Fact]
    public async Task A_crash_between_the_commit_and_the_checkpoint_does_not_import_the_batch_twice()
    {
        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "probe.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(1, 6).Select(i => Line(new { email = $"p{i}@example.com" })));
        var stop = new CliHooks { BeforeCommitAsync = (batch, _) => batch == 2 ? throw new IOException("stop") : Task.CompletedTask };
        await Assert.ThrowsAsync<IOException>(() => app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "3", file], stop));

        // Rewind the checkpoint to "batch 1 pending": as if the process died right after batch 1 committed.
        var path = file + ".checkpoint";
        var checkpoint = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        var lastOfBatch = (await UsersAsync(tenant)).Single(u => u.EmailNormalized == "p3@example.com").Id;
        checkpoint["committed_line"] = 0;
        checkpoint["imported"] = 0;
        checkpoint["pending"] = new JsonObject { ["line"] = 3, ["probe_user_id"] = lastOfBatch, ["imported"] = 3, ["rejected"] = 0, ["errors_bytes"] = 0 };
        await File.WriteAllTextAsync(path, checkpoint.ToJsonString());

        var result = await app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "3", file]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(6, (await UsersAsync(tenant)).Count);
        Assert.Empty(CliHarness.ErrorReport(file + ".errors.jsonl"));
    }

    [Fact]
    public async Task A_batch_that_fails_in_the_database_leaves_nothing_of_that_batch()
    {
        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "dbfail.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(1, 9).Select(i =>
            i == 5 ? Line(new { email = "invalid" }) : Line(new { email = $"d{i}@example.com", first_name = $"D{i}" })));

        // Inside batch 2's transaction, a write that breaks the tenant's unique email index: the database refuses it.
        var sabotage = new CliHooks
        {
            BeforeCommitAsync = async (batch, db) =>
            {
                if (batch == 2)
                {
                    await db.Database.ExecuteSqlRawAsync("UPDATE users SET email_normalized = 'same@example.com' WHERE tenant_id = {0}", tenant);
                }
            },
        };
        var failed = await app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "3", file], sabotage);
        Assert.Equal(CliRunner.Failed, failed.ExitCode);
        Assert.Contains("rolled back", failed.Error);

        var users = await UsersAsync(tenant);
        Assert.Equal(["d1@example.com", "d2@example.com", "d3@example.com"], users.Select(u => u.EmailNormalized).ToArray());
        Assert.Empty(CliHarness.ErrorReport(file + ".errors.jsonl")); // line 5's error belonged to the failed batch
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TenantId == tenant && e.Action == ImportCommand.AuditAction)));

        var rerun = await app.RunCliAsync(["import", "--tenant", tenant, "--batch-size", "3", file]);
        Assert.Equal(CliRunner.CompletedWithRejectedRows, rerun.ExitCode);
        Assert.Equal(8, (await UsersAsync(tenant)).Count);
        Assert.Equal([5], CliHarness.ErrorReport(file + ".errors.jsonl").Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.Equal(8, (await ListAsync(tenant))["pagination"]!["total_items"]!.GetValue<int>());
    }

    [Fact]
    public async Task Usage_errors_name_the_problem()
    {
        var tenant = await app.CreateTenantAsync();
        var folder = app.WorkFolder();
        var csv = Path.Combine(folder, "bad-header.csv");
        await File.WriteAllLinesAsync(csv, ["email,shoe_size", "a@example.com,42"]);
        var txt = Path.Combine(folder, "users.txt");
        await File.WriteAllLinesAsync(txt, [Line(new { email = "a@example.com" })]);

        Assert.Contains("shoe_size", (await app.RunCliAsync(["import", "--tenant", tenant, csv])).Error);
        Assert.Equal(CliRunner.Usage, (await app.RunCliAsync(["import", "--tenant", tenant, txt])).ExitCode);
        Assert.Equal(CliRunner.Usage, (await app.RunCliAsync(["import", "--tenant", "no-such-tenant", csv])).ExitCode);
        Assert.Equal(CliRunner.Usage, (await app.RunCliAsync(["import", "--tenant", tenant, "--bogus", "1", csv])).ExitCode);

        // The slug works as well as the id, and --format overrides the extension.
        var slug = await app.DbAsync(db => db.Tenants.Where(t => t.Id == tenant).Select(t => t.Slug).SingleAsync());
        Assert.Equal(0, (await app.RunCliAsync(["import", "--tenant", slug, "--format", "jsonl", txt])).ExitCode);
        Assert.Single(await UsersAsync(tenant));
    }
}
