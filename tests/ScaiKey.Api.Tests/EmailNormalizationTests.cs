using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Tests;

/// <summary>
/// One mailbox, one user: an email's key is NFC with the domain in IDNA ASCII, for uniqueness and sign-in alike,
/// and the one-time step that brings keys written by the earlier rule to it (reporting collisions, never failing).
/// </summary>
public sealed class EmailNormalizationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    // "ü" composed (NFC) and decomposed (u + combining diaeresis, NFD).
    private const string Nfc = "\u00fc";
    private const string Nfd = "u\u0308";

    private sealed record Client(string TenantId, string ClientId, string Secret);

    private async Task<Client> AppWithPasswordGrantAsync()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Legacy portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201);
        return new Client(tenant, created["data"]!["client_id"]!.GetValue<string>(), created["data"]!["client_secret"]!.GetValue<string>());
    }

    private async Task<HttpResponseMessage> SignInAsync(Client client, string email, string password = Password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = "openid email",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{client.ClientId}:{client.Secret}")));
        return await app.Anonymous().SendAsync(request);
    }

    private async Task<HttpResponseMessage> CreateAsync(string tenant, string email)
    {
        using var admin = await app.AdminAsync();
        return await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email });
    }

    [Theory]
    [InlineData("a@bücher.de", "a@xn--bcher-kva.de")]
    [InlineData("A@B\u00dcCHER.DE", "a@xn--bcher-kva.de")]
    [InlineData("a@bu\u0308cher.de", "a@xn--bcher-kva.de")]
    [InlineData("ju\u0308rgen@example.com", "j\u00fcrgen@example.com")]
    [InlineData("  Ada@Example.COM ", "ada@example.com")]
    [InlineData("a@XN--BCHER-KVA.de", "a@xn--bcher-kva.de")]
    [InlineData("x@bad_domain.de", "x@bad_domain.de")]
    [InlineData("x@b\u00fc_d.de", "x@b\u00fc_d.de")]
    [InlineData("no-at-sign", "no-at-sign")]
    [InlineData("@@", "@@")]
    public void Normalize_gives_NFC_lower_case_and_an_ASCII_domain_and_never_throws(string input, string expected) =>
        Assert.Equal(expected, EmailAddresses.Normalize(input));

    [Fact]
    public async Task A_unicode_domain_and_its_punycode_are_one_mailbox()
    {
        var tenant = await app.CreateTenantAsync();
        var created = await (await CreateAsync(tenant, "a@B" + Nfc + "cher.de")).ReadJsonAsync(201);
        Assert.Equal("a@b" + Nfc + "cher.de", created["data"]!["email"]!.GetValue<string>());

        foreach (var spelling in new[] { "a@xn--bcher-kva.de", "A@XN--BCHER-KVA.DE", "a@b" + Nfd + "cher.de" })
        {
            var problem = await (await CreateAsync(tenant, spelling)).ReadProblemAsync(409);
            Assert.Contains("already exists", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Control: a different domain is a different mailbox.
        var other = (await (await CreateAsync(tenant, "a@bucher.de")).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();

        // PATCH to another spelling of a taken mailbox is refused the same way.
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{other}", new { email = "a@xn--bcher-kva.de" })).ReadProblemAsync(409);

        // The other order: the punycode first, then the Unicode spelling.
        var second = await app.CreateTenantAsync();
        var puny = await (await CreateAsync(second, "a@xn--bcher-kva.de")).ReadJsonAsync(201);
        Assert.Equal("a@xn--bcher-kva.de", puny["data"]!["email"]!.GetValue<string>());
        await (await CreateAsync(second, "a@b" + Nfc + "cher.de")).ReadProblemAsync(409);
    }

    [Fact]
    public async Task NFD_and_NFC_spellings_are_the_same_user()
    {
        var tenant = await app.CreateTenantAsync();
        var created = await (await CreateAsync(tenant, "j" + Nfd + "rgen@example.com")).ReadJsonAsync(201);
        Assert.Equal("j" + Nfc + "rgen@example.com", created["data"]!["email"]!.GetValue<string>());
        await (await CreateAsync(tenant, "J" + Nfc + "rgen@example.com")).ReadProblemAsync(409);

        var id = created["data"]!["id"]!.GetValue<string>();
        var key = await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.EmailNormalized).SingleAsync());
        Assert.Equal("j" + Nfc + "rgen@example.com", key);
    }

    [Fact]
    public async Task Sign_in_works_with_every_spelling_of_the_mailbox()
    {
        var client = await AppWithPasswordGrantAsync();
        await app.CreateUserIdAsync(client.TenantId, "Zo\u00eb@B" + Nfc + "cher.de", Password);

        foreach (var spelling in new[] { "zo\u00eb@xn--bcher-kva.de", "zoe\u0308@bu\u0308cher.de", "ZO\u00cb@B\u00dcCHER.DE", " zo\u00eb@b\u00fccher.de " })
        {
            var tokens = await (await SignInAsync(client, spelling)).ReadJsonAsync(200);
            Assert.NotNull(tokens["access_token"]);
        }

        // Controls: another mailbox, and junk whose domain has no IDNA form, are refused like any unknown email.
        foreach (var other in new[] { "zoe@bucher.de", "zo\u00eb@b\u00fc_cher.de", "@@" })
        {
            var error = await (await SignInAsync(client, other)).ReadJsonAsync(400);
            Assert.Equal("invalid_grant", error["error"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_search_in_either_normal_form_finds_the_user()
    {
        var tenant = await app.CreateTenantAsync();
        var id = (await app.CreateUserAsync(tenant, new { email = "m" + Nfd + "ller@example.com", last_name = "Go" + Nfd + "del" /* "Goüdel", decomposed */ }))["id"]!.GetValue<string>();
        await app.CreateUserIdAsync(tenant, "muller@example.com");
        using var admin = await app.AdminAsync();
        foreach (var term in new[] { "M" + Nfc + "ller", "m" + Nfd + "ller", "go" + Nfc + "del", "GO" + Nfd + "DEL" })
        {
            var page = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?search={Uri.EscapeDataString(term)}")).ReadJsonAsync(200);
            Assert.Equal([id], page["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Import_refuses_another_spelling_of_a_mailbox_in_the_file_or_the_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserIdAsync(tenant, "taken@b" + Nfc + "cher.de");
        var folder = app.WorkFolder();
        var file = Path.Combine(folder, "idn.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            System.Text.Json.JsonSerializer.Serialize(new { email = "new@b" + Nfc + "cher.de" }),     // 1 ok
            System.Text.Json.JsonSerializer.Serialize(new { email = "NEW@xn--bcher-kva.de" }),         // 2 same mailbox as line 1
            System.Text.Json.JsonSerializer.Serialize(new { email = "taken@xn--bcher-kva.de" }),       // 3 same mailbox as a user
            System.Text.Json.JsonSerializer.Serialize(new { email = "other@xn--bcher-kva.de" }),       // 4 ok (control)
        ]);

        var result = await app.RunCliAsync(["import", "--tenant", tenant, "--errors", Path.Combine(folder, "report.jsonl"), file]);
        Assert.Equal(ScaiKey.Api.Cli.CliRunner.CompletedWithRejectedRows, result.ExitCode);
        var report = CliHarness.ErrorReport(Path.Combine(folder, "report.jsonl"));
        Assert.Equal([2, 3], report.Select(r => r["line"]!.GetValue<int>()).ToArray());
        Assert.Contains("line 1", report[0]["detail"]![0]!["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("already exists", report[1]["detail"]![0]!["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        var keys = await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.TenantId == tenant).Select(u => u.EmailNormalized).OrderBy(k => k).ToListAsync());
        Assert.Equal(["new@xn--bcher-kva.de", "other@xn--bcher-kva.de", "taken@xn--bcher-kva.de"], keys);
    }

    // ---- the one-time step for keys written by the earlier rule ----

    /// <summary>A live user whose stored email and key are what the earlier rule (trim + lower case) wrote.</summary>
    private async Task<string> LegacyUserAsync(string tenant, string email)
    {
        var id = await app.CreateUserIdAsync(tenant);
        await app.DbAsync(db => db.Users.Where(u => u.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Email, email).SetProperty(u => u.EmailNormalized, email.Trim().ToLowerInvariant())));
        return id;
    }

    private Task<string> KeyAsync(string id) =>
        app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.EmailNormalized).SingleAsync());

    private Task<ScaiKey.Data.Entities.DataStep?> StepAsync() =>
        app.DbAsync(db => db.DataSteps.AsNoTracking().SingleOrDefaultAsync(s => s.Name == EmailNormalizationStep.Name));

    private Task<List<ScaiKey.Data.Entities.AuditEvent>> CollisionsAsync(string tenant) =>
        app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenant && e.Action == EmailNormalizationStep.CollisionAction).ToListAsync());

    [Fact]
    public async Task The_step_renormalizes_old_keys_reports_collisions_and_runs_once()
    {
        // The step ran (on an empty directory) when the first host started; this test's rows come after it.
        var first = await StepAsync();
        Assert.NotNull(first?.CompletedAt);

        var tenant = await app.CreateTenantAsync();
        var composed = await LegacyUserAsync(tenant, "Ada@B" + Nfc + "cher.de");
        var decomposed = await LegacyUserAsync(tenant, "ada@b" + Nfd + "cher.de");
        var alone = await LegacyUserAsync(tenant, "grace@b" + Nfc + "cher.de");
        var plain = await LegacyUserAsync(tenant, "Linus@Example.com");
        var (winner, loser) = string.CompareOrdinal(composed, decomposed) < 0 ? (composed, decomposed) : (decomposed, composed);
        var loserKey = await KeyAsync(loser);

        // Another tenant's user with the same mailbox does not collide.
        var otherTenant = await app.CreateTenantAsync();
        var elsewhere = await LegacyUserAsync(otherTenant, "ada@b" + Nfc + "cher.de");

        await app.DbAsync(db => db.DataSteps.Where(s => s.Name == EmailNormalizationStep.Name).ExecuteDeleteAsync());
        app.StartHost();

        Assert.Equal("ada@xn--bcher-kva.de", await KeyAsync(winner));
        Assert.Equal(loserKey, await KeyAsync(loser));
        Assert.Equal("grace@xn--bcher-kva.de", await KeyAsync(alone));
        Assert.Equal("linus@example.com", await KeyAsync(plain));
        Assert.Equal("ada@xn--bcher-kva.de", await KeyAsync(elsewhere));

        var collision = Assert.Single(await CollisionsAsync(tenant));
        Assert.Equal(loser, collision.TargetId);
        Assert.Equal("user", collision.TargetType);
        Assert.Contains(winner, collision.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("cher", collision.Reason, StringComparison.Ordinal);
        Assert.Empty(await CollisionsAsync(otherTenant));

        var step = await StepAsync();
        Assert.NotNull(step?.CompletedAt);
        Assert.Contains("1 collisions left unchanged", step!.Report, StringComparison.Ordinal);
        Assert.Contains($"tenant {tenant}: user {loser} is the same mailbox as user {winner}", step.Report, StringComparison.Ordinal);
        Assert.DoesNotContain("cher", step.Report, StringComparison.Ordinal);

        // The operator reads the same report from the command line.
        var cli = await app.RunCliAsync(["data-steps"]);
        Assert.Equal(0, cli.ExitCode);
        Assert.Contains($"{EmailNormalizationStep.Name}: completed", cli.Out, StringComparison.Ordinal);
        Assert.Contains($"tenant {tenant}: user {loser} is the same mailbox as user {winner}", cli.Out, StringComparison.Ordinal);

        // The step is done: a later start leaves even a fresh old-style key alone and reports nothing again.
        var late = await LegacyUserAsync(tenant, "late@b" + Nfc + "cher.de");
        app.StartHost();
        Assert.Equal("late@b" + Nfc + "cher.de", await KeyAsync(late));
        Assert.Single(await CollisionsAsync(tenant));
        var again = await StepAsync();
        Assert.Equal(step.CompletedAt, again!.CompletedAt);
        Assert.Equal(step.Report, again.Report);
    }

    [Fact]
    public async Task A_claim_held_by_a_live_instance_is_left_alone_and_a_stale_one_is_taken_over()
    {
        var tenant = await app.CreateTenantAsync();
        var legacy = await LegacyUserAsync(tenant, "claim@b" + Nfc + "cher.de");
        await app.DbAsync(async db =>
        {
            await db.DataSteps.Where(s => s.Name == EmailNormalizationStep.Name).ExecuteDeleteAsync();
            db.DataSteps.Add(new ScaiKey.Data.Entities.DataStep { Name = EmailNormalizationStep.Name, ClaimedBy = "other-instance", ClaimedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        });

        // Another instance is running the step: this one starts without touching it.
        app.StartHost();
        Assert.Equal("claim@b" + Nfc + "cher.de", await KeyAsync(legacy));
        Assert.Equal("other-instance", (await StepAsync())!.ClaimedBy);

        // That instance died (its claim went stale): the next start takes the step over and completes it.
        await app.DbAsync(db => db.DataSteps.Where(s => s.Name == EmailNormalizationStep.Name)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ClaimedAt, DateTime.UtcNow - EmailNormalizationStep.Lease - TimeSpan.FromMinutes(1))));
        app.StartHost();
        Assert.Equal("claim@xn--bcher-kva.de", await KeyAsync(legacy));
        var step = await StepAsync();
        Assert.NotEqual("other-instance", step!.ClaimedBy);
        Assert.NotNull(step.CompletedAt);
    }
}
