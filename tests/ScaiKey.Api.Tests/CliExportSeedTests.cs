using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>`scaikey export` (JSON Lines of UserResponse, importable elsewhere) and `scaikey seed`.</summary>
public sealed class CliExportSeedTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly string[] UserFields = ["email", "username", "first_name", "last_name", "display_name", "phone", "locale", "timezone", "custom_attributes"];

    private async Task<int> TotalAsync(string tenant, string query = "")
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?per_page=1{query}")).ReadJsonAsync(200))["pagination"]!["total_items"]!.GetValue<int>();
    }

    [Fact]
    public async Task Export_writes_every_live_user_as_the_API_shows_it_and_imports_into_another_tenant()
    {
        var source = await app.CreateTenantAsync();
        var staff = await app.CreateAsync($"/api/v1/tenants/{source}/groups", new { name = "Staff" });
        await app.CreateUserAsync(source, new
        {
            email = "ada@example.com", username = "ada", first_name = "Ada", last_name = "Lovelace", display_name = "Ada L.",
            phone = "+14155550123", locale = "en-GB", timezone = "Europe/London", custom_attributes = new { badge = 7, tags = new[] { "x" } },
            password = "Quartz-Lantern-93!",
        });
        await app.CreateUserAsync(source, new { email = "grace@example.com", first_name = "Grace" });
        var gone = await app.CreateUserIdAsync(source, "gone@example.com");
        var member = await app.CreateUserIdAsync(source, "member@example.com");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.DeleteAsync($"/api/v1/tenants/{source}/users/{gone}?confirm_email=gone@example.com")).ShouldBeAsync(204);
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{source}/groups/{staff}/members", new { user_ids = new[] { member } })).ShouldBeAsync(200);
        }

        var folder = app.WorkFolder();
        var file = Path.Combine(folder, "export.jsonl");
        var exported = await app.RunCliAsync(["export", "--tenant", source, "--output", file]);
        Assert.True(exported.ExitCode == 0, exported.Error);
        var lines = (await File.ReadAllLinesAsync(file)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["ada@example.com", "grace@example.com", "member@example.com"], lines.Select(l => l["email"]!.GetValue<string>()).Order());
        Assert.DoesNotContain("argon2", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.DoesNotContain("password_hash", await File.ReadAllTextAsync(file), StringComparison.Ordinal);

        // Each line is what GET /users/{id} returns as data.
        using (var admin = await app.AdminAsync())
        {
            foreach (var line in lines)
            {
                var api = (await (await admin.GetAsync($"/api/v1/tenants/{source}/users/{line["id"]}")).ReadJsonAsync(200))["data"]!;
                Assert.True(JsonNode.DeepEquals(api, line), $"API {api.ToJsonString()}\nexport {line.ToJsonString()}");
            }
        }

        // Into another tenant: the read-only fields (id, status, groups, ...) are dropped, the rest arrive as they were.
        var target = await app.CreateTenantAsync();
        var imported = await app.RunCliAsync(["import", "--tenant", target, file]);
        Assert.True(imported.ExitCode == 0, imported.Error + File.ReadAllText(file + ".errors.jsonl"));
        var roundTrip = Path.Combine(folder, "round-trip.jsonl");
        Assert.Equal(0, (await app.RunCliAsync(["export", "--tenant", target, "--output", roundTrip])).ExitCode);
        static string Fields(JsonObject user) => string.Join("|", UserFields.Select(f => user[f]?.ToJsonString() ?? "null"));
        Assert.Equal(lines.Select(Fields).Order(), (await File.ReadAllLinesAsync(roundTrip)).Select(l => Fields(JsonNode.Parse(l)!.AsObject())).Order());
        Assert.Equal(3, await TotalAsync(target));
    }

    [Fact]
    public async Task Export_to_stdout_pages_through_many_users_in_id_order()
    {
        var tenant = await app.CreateTenantAsync();
        var file = Path.Combine(app.WorkFolder(), "many.csv");
        await File.WriteAllLinesAsync(file, ["email,last_name"]);
        await File.AppendAllLinesAsync(file, Enumerable.Range(1, 5200).Select(i => $"user{i}@example.com,Many"));
        Assert.Equal(0, (await app.RunCliAsync(["import", "--tenant", tenant, file])).ExitCode);

        var result = await app.RunCliAsync(["export", "--tenant", tenant]);
        Assert.Equal(0, result.ExitCode);
        var ids = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(5200, ids.Count);
        Assert.Equal(5200, ids.Distinct().Count());
    }

    [Fact]
    public async Task Seed_creates_tenants_with_the_requested_users_who_sign_in_with_the_shared_password()
    {
        const string password = "Seeded-Password-42";
        var result = await app.RunCliAsync(["seed", "--tenants", "3", "--users", "2000", "--other-users", "7", "--password", password]);
        Assert.True(result.ExitCode == 0, result.Error);
        var tenants = JsonNode.Parse(result.Out)!["tenants"]!.AsArray();
        Assert.Equal([2000, 7, 7], tenants.Select(t => t!["users"]!.GetValue<int>()).ToArray());
        foreach (var t in tenants)
        {
            Assert.Equal(t!["users"]!.GetValue<int>(), await TotalAsync(t["id"]!.GetValue<string>()));
            Assert.StartsWith("seed-", t["slug"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Every tenant sits under a partner; names vary, and a surname finds a small share of the users.
        var first = tenants[0]!["id"]!.GetValue<string>();
        Assert.All(await app.DbAsync(db => db.Tenants.Where(t => tenants.Select(x => x!["id"]!.GetValue<string>()).Contains(t.Id)).Select(t => t.PartnerId).ToListAsync()),
            Assert.NotNull);
        var lastNames = await app.DbAsync(db => db.Users.Where(u => u.TenantId == first).Select(u => u.LastName).Distinct().CountAsync());
        Assert.True(lastNames > 150, $"{lastNames} distinct last names");
        var okonkwo = await TotalAsync(first, "&search=okonkwo");
        Assert.InRange(okonkwo, 1, 40);

        // One shared Argon2id hash, and it works for the password grant.
        var hashes = await app.DbAsync(db => db.Users.Where(u => u.TenantId == first).Select(u => u.PasswordHash).Distinct().ToListAsync());
        Assert.StartsWith("$argon2id$", Assert.Single(hashes), StringComparison.Ordinal);
        using var admin = await app.AdminAsync();
        var application = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{first}/applications", new
        {
            name = "Bench", type = "WEB", redirect_uris = new[] { "https://bench.example.com/cb" }, grant_types = new[] { "authorization_code", "password" },
        })).ReadJsonAsync(201))["data"]!;
        var email = await app.DbAsync(db => db.Users.Where(u => u.TenantId == first).OrderBy(u => u.Id).Select(u => u.Email).FirstAsync());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = email, ["password"] = password }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{application["client_id"]!.GetValue<string>()}:{application["client_secret"]!.GetValue<string>()}")));
        await (await app.Anonymous().SendAsync(request)).ReadJsonAsync(200);
    }

    [Fact]
    public async Task Seed_without_a_password_leaves_users_pending_and_the_same_seed_gives_the_same_names()
    {
        var one = JsonNode.Parse((await app.RunCliAsync(["seed", "--tenants", "1", "--users", "20"])).Out)!["tenants"]![0]!["id"]!.GetValue<string>();
        var two = JsonNode.Parse((await app.RunCliAsync(["seed", "--tenants", "1", "--users", "20"])).Out)!["tenants"]![0]!["id"]!.GetValue<string>();
        Task<List<string>> NamesAsync(string tenant) => app.DbAsync(db =>
            db.Users.Where(u => u.TenantId == tenant).OrderBy(u => u.CreatedAt).Select(u => u.Email).ToListAsync());
        Assert.Equal(await NamesAsync(one), await NamesAsync(two));
        Assert.All(await app.DbAsync(db => db.Users.Where(u => u.TenantId == one).Select(u => new { u.Status, u.PasswordHash }).ToListAsync()), u =>
        {
            Assert.Equal(ScaiKey.Data.Entities.UserStatus.PendingEmailVerification, u.Status);
            Assert.Null(u.PasswordHash);
        });
    }
}
