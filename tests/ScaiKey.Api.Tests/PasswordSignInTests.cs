using System.Net.Http.Headers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Password sign-in through the password grant: who may sign in, lockout (also under concurrency and with the
/// clock moving), no user enumeration, sessions, refresh rotation with reuse detection and revocation.
/// </summary>
public sealed class PasswordSignInTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";

    private sealed record Client(string TenantId, string ClientId, string Secret);

    private async Task<Client> AppWithPasswordGrantAsync(object? settings = null, string[]? grants = null)
    {
        var tenant = await app.CreateTenantAsync(settings: settings);
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Legacy portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = grants ?? ["authorization_code", "refresh_token", "password"],
        })).ReadJsonAsync(201);
        return new Client(tenant, created["data"]!["client_id"]!.GetValue<string>(), created["data"]!["client_secret"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> TokenAsync(HttpClient http, Client client, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{client.ClientId}:{client.Secret}")));
        request.Headers.UserAgent.ParseAdd("PasswordSignInTests/1.0");
        return await http.SendAsync(request);
    }

    private Task<HttpResponseMessage> SignInAsync(Client client, string email, string password, HttpClient? http = null) =>
        TokenAsync(http ?? app.Anonymous(), client, new()
        {
            ["grant_type"] = "password",
            ["username"] = email,
            ["password"] = password,
            ["scope"] = "openid email profile offline_access",
        });

    private Task<HttpResponseMessage> RefreshAsync(Client client, string refreshToken) =>
        TokenAsync(app.Anonymous(), client, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });

    private static async Task<JsonNode> OkAsync(HttpResponseMessage response) => await response.ReadJsonAsync(200);

    private static async Task<(string Error, string Description)> ErrorAsync(HttpResponseMessage response)
    {
        var body = await response.ReadJsonAsync(400);
        return (body["error"]!.GetValue<string>(), body["error_description"]?.GetValue<string>() ?? string.Empty);
    }

    private async Task<string> UserAsync(Client client, string email, string? password = Password) =>
        await app.CreateUserIdAsync(client.TenantId, email, password);

    private Task<JsonNode> ReadUserAsync(Client client, string userId, string include = "") =>
        app.AdminAsync().ContinueWith(async t =>
            (await (await t.Result.GetAsync($"/api/v1/tenants/{client.TenantId}/users/{userId}{include}")).ReadJsonAsync(200))["data"]!).Unwrap();

    /// <summary>
    /// A user's access token still stands (200) or was revoked (401), as userinfo sees it: the application's token
    /// cannot call the management API at all (its audience is the application), and userinfo makes the same
    /// revocation check as the API.
    /// </summary>
    private async Task<int> TokenStatusAsync(string accessToken)
    {
        using var client = app.WithToken(accessToken);
        return (int)(await client.GetAsync("/connect/userinfo")).StatusCode;
    }

    [Fact]
    public async Task Active_user_signs_in_and_gets_tokens_a_session_and_a_last_login()
    {
        var client = await AppWithPasswordGrantAsync();
        var userId = await UserAsync(client, "ada@example.com");

        var tokens = await OkAsync(await SignInAsync(client, "ADA@example.com", Password));
        Assert.False(string.IsNullOrEmpty(tokens["access_token"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(tokens["id_token"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(tokens["refresh_token"]?.GetValue<string>()));
        Assert.Equal(200, await TokenStatusAsync(tokens["access_token"]!.GetValue<string>()));

        var user = await ReadUserAsync(client, userId, "?include=sessions");
        Assert.NotNull(user["last_login_at"]);
        var session = Assert.Single(user["sessions"]!.AsArray());
        Assert.Equal("PasswordSignInTests/1.0", session!["user_agent"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_email_and_wrong_password_get_the_same_answer()
    {
        var client = await AppWithPasswordGrantAsync();
        await UserAsync(client, "grace@example.com");
        var unknown = await ErrorAsync(await SignInAsync(client, "nobody@example.com", Password));
        var wrong = await ErrorAsync(await SignInAsync(client, "grace@example.com", "Wrong-Password-123!"));
        Assert.Equal(("invalid_grant", "Invalid email or password."), unknown);
        Assert.Equal(unknown, wrong);

        // And an unknown email still costs a password hash: the dummy hash is a real Argon2id string.
        var hasher = app.Host.Services.GetRequiredService<ScaiKey.Api.Security.PasswordHasher>();
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hasher.DummyHash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_password_grant_works_only_for_applications_that_list_it()
    {
        var client = await AppWithPasswordGrantAsync(grants: ["authorization_code", "refresh_token"]);
        await UserAsync(client, "linus@example.com");
        var response = await SignInAsync(client, "linus@example.com", Password);
        Assert.Equal("unauthorized_client", (await ErrorAsync(response)).Error);
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_account_at_the_configured_count_and_success_resets_the_counter()
    {
        var client = await AppWithPasswordGrantAsync(new { lockout_policy = new { max_failed_attempts = 3, lockout_duration_minutes = 15 } });
        var userId = await UserAsync(client, "barbara@example.com");

        await SignInAsync(client, "barbara@example.com", "Wrong-Password-1!");
        await SignInAsync(client, "barbara@example.com", "Wrong-Password-2!");
        await OkAsync(await SignInAsync(client, "barbara@example.com", Password));
        Assert.Equal(0, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync()));

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(client, "barbara@example.com", "Wrong-Password-3!"))).Description);
        }

        Assert.Equal("ACTIVE", (await ReadUserAsync(client, userId))["status"]!.GetValue<string>());
        await SignInAsync(client, "barbara@example.com", "Wrong-Password-4!");
        Assert.Equal("LOCKED", (await ReadUserAsync(client, userId))["status"]!.GetValue<string>());

        // The right password on a locked account is answered like a wrong one: the lock is no oracle.
        Assert.Equal(("invalid_grant", "Invalid email or password."), await ErrorAsync(await SignInAsync(client, "barbara@example.com", Password)));

        // A wrong password on a locked account reveals nothing more than on any other.
        Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(client, "barbara@example.com", "Nope-Nope-123!"))).Description);

        using var admin = await app.AdminAsync();
        var events = await (await admin.GetAsync($"/api/v1/tenants/{client.TenantId}/audit-events?target_id={userId}&action=user.locked")).ReadJsonAsync(200);
        Assert.Equal(1, events["pagination"]!["total_items"]!.GetValue<int>());
        Assert.Equal("SYSTEM", events["data"]![0]!["actor_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_wrong_attempts_lock_after_exactly_the_configured_count()
    {
        var client = await AppWithPasswordGrantAsync(new { lockout_policy = new { max_failed_attempts = 5, lockout_duration_minutes = 15 } });
        var userId = await UserAsync(client, "katherine@example.com");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => SignInAsync(client, "katherine@example.com", $"Wrong-Password-{i}!")));
        var afterFour = await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.Status, u.FailedLoginAttempts }).SingleAsync());
        Assert.Equal((UserStatus.Active, 4), (afterFour.Status, afterFour.FailedLoginAttempts));

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => SignInAsync(client, "katherine@example.com", $"Wrong-Again-{i}!")));
        Assert.Equal(UserStatus.Locked, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.locked")));
    }

    [Fact]
    public async Task A_lock_ends_after_the_duration_with_the_next_correct_password_and_zero_means_until_an_admin_unlocks()
    {
        var clock = new TestClock();
        var host = app.StartHost(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        try
        {
            using var http = host.CreateClient();
            var timed = await AppWithPasswordGrantAsync(new { lockout_policy = new { max_failed_attempts = 2, lockout_duration_minutes = 15 } });
            var forever = await AppWithPasswordGrantAsync(new { lockout_policy = new { max_failed_attempts = 2, lockout_duration_minutes = 0 } });
            var timedUser = await UserAsync(timed, "hedy@example.com");
            var foreverUser = await UserAsync(forever, "hedy@example.com");
            foreach (var c in new[] { timed, forever })
            {
                await SignInAsync(c, "hedy@example.com", "Wrong-Password-1!", http);
                await SignInAsync(c, "hedy@example.com", "Wrong-Password-2!", http);
            }

            clock.Advance(TimeSpan.FromMinutes(14));
            Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(timed, "hedy@example.com", Password, http))).Description);
            Assert.Equal("LOCKED", (await ReadUserAsync(timed, timedUser))["status"]!.GetValue<string>());

            clock.Advance(TimeSpan.FromMinutes(2));
            await OkAsync(await SignInAsync(timed, "hedy@example.com", Password, http));
            Assert.Equal("ACTIVE", (await ReadUserAsync(timed, timedUser))["status"]!.GetValue<string>());

            clock.Advance(TimeSpan.FromDays(30));
            Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(forever, "hedy@example.com", Password, http))).Description);
            Assert.Equal("LOCKED", (await ReadUserAsync(forever, foreverUser))["status"]!.GetValue<string>());
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task Only_active_users_sign_in_and_a_forced_change_is_required_first()
    {
        var client = await AppWithPasswordGrantAsync();
        using var admin = await app.AdminAsync();
        var disabled = await UserAsync(client, "disabled@example.com");
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{disabled}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(client, "disabled@example.com", Password))).Description);

        await UserAsync(client, "pending@example.com", password: null);
        Assert.Equal("Invalid email or password.", (await ErrorAsync(await SignInAsync(client, "pending@example.com", Password))).Description);

        var forced = await UserAsync(client, "forced@example.com");
        var reset = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{forced}/password/reset", new { method = "TEMPORARY" })).ReadJsonAsync(200);
        var temporary = reset["data"]!["temporary_password"]!.GetValue<string>();
        var refused = await ErrorAsync(await SignInAsync(client, "forced@example.com", temporary));
        Assert.Equal("invalid_grant", refused.Error);
        Assert.Contains("password change is required", refused.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_tokens_rotate_and_reusing_a_spent_one_revokes_the_whole_family()
    {
        var client = await AppWithPasswordGrantAsync();
        await UserAsync(client, "margaret@example.com");
        var first = await OkAsync(await SignInAsync(client, "margaret@example.com", Password));
        var spent = first["refresh_token"]!.GetValue<string>();

        var second = await OkAsync(await RefreshAsync(client, spent));
        var current = second["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(spent, current);
        var access = second["access_token"]!.GetValue<string>();
        Assert.Equal(200, await TokenStatusAsync(access));

        // The spent token comes back (stolen, or replayed): the chain dies, including the newest tokens.
        Assert.Equal("invalid_grant", (await ErrorAsync(await RefreshAsync(client, spent))).Error);
        Assert.Equal("invalid_grant", (await ErrorAsync(await RefreshAsync(client, current))).Error);
        Assert.Equal(401, await TokenStatusAsync(access));

        // Other sign-ins of the same user are separate families and keep working.
        var other = await OkAsync(await SignInAsync(client, "margaret@example.com", Password));
        await OkAsync(await RefreshAsync(client, other["refresh_token"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Revocations_by_an_admin_end_access_and_refresh_tokens_at_once()
    {
        var client = await AppWithPasswordGrantAsync();
        using var admin = await app.AdminAsync();
        var cases = new (string Email, Func<string, Task> Revoke)[]
        {
            ("terminate@example.com", id => admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{id}/status", new { status = "ACTIVE", terminate_sessions = true })),
            ("disable@example.com", id => admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{id}/status", new { status = "DISABLED" })),
            ("reset@example.com", id => admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{id}/password/reset", new { method = "MANUAL", new_password = "Another-Quartz-77!" })),
            ("mfa@example.com", id => admin.PostAsync($"/api/v1/admin/users/{id}/mfa/disable", null)),
        };
        foreach (var (email, revoke) in cases)
        {
            var userId = await UserAsync(client, email);
            var tokens = await OkAsync(await SignInAsync(client, email, Password));
            var access = tokens["access_token"]!.GetValue<string>();
            Assert.Equal(200, await TokenStatusAsync(access));

            await revoke(userId);

            Assert.True(401 == await TokenStatusAsync(access), email);
            Assert.Equal("invalid_grant", (await ErrorAsync(await RefreshAsync(client, tokens["refresh_token"]!.GetValue<string>()))).Error);
        }
    }

    [Fact]
    public async Task Revoking_a_refresh_token_ends_its_whole_grant_and_discovery_names_the_endpoint()
    {
        var client = await AppWithPasswordGrantAsync();
        await UserAsync(client, "revoke@example.com");
        var tokens = await OkAsync(await SignInAsync(client, "revoke@example.com", Password));
        var access = tokens["access_token"]!.GetValue<string>();

        var discovery = await (await app.Anonymous().GetAsync("/.well-known/openid-configuration")).ReadJsonAsync(200);
        Assert.EndsWith("/connect/revoke", discovery["revocation_endpoint"]!.GetValue<string>(), StringComparison.Ordinal);

        var revoked = await TokenRevokeAsync(client, tokens["refresh_token"]!.GetValue<string>());
        Assert.Equal(System.Net.HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal("invalid_grant", (await ErrorAsync(await RefreshAsync(client, tokens["refresh_token"]!.GetValue<string>()))).Error);
        Assert.Equal(401, await TokenStatusAsync(access));

        // Another application cannot revoke this one's tokens.
        var other = await AppWithPasswordGrantAsync();
        await UserAsync(other, "revoke@example.com");
        var mine = await OkAsync(await SignInAsync(other, "revoke@example.com", Password));
        await TokenRevokeAsync(client, mine["refresh_token"]!.GetValue<string>());
        await OkAsync(await RefreshAsync(other, mine["refresh_token"]!.GetValue<string>()));
    }

    private async Task<HttpResponseMessage> TokenRevokeAsync(Client client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/revoke")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = "refresh_token" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{client.ClientId}:{client.Secret}")));
        return await app.Anonymous().SendAsync(request);
    }

    [Fact]
    public async Task Password_attempts_are_limited_per_account_with_retry_after()
    {
        var host = app.StartHost(b => b.UseSetting("ScaiKey:RateLimits:PerAccountPerMinute", "3"));
        try
        {
            using var http = host.CreateClient();
            var client = await AppWithPasswordGrantAsync();
            await UserAsync(client, "limited@example.com");
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("invalid_grant", (await ErrorAsync(await SignInAsync(client, "limited@example.com", "Wrong-Password-9!", http))).Error);
            }

            var limited = await SignInAsync(client, "LIMITED@example.com", Password, http);
            await limited.ReadProblemAsync(429);
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);

            // Other accounts are not affected.
            Assert.Equal("invalid_grant", (await ErrorAsync(await SignInAsync(client, "someone-else@example.com", Password, http))).Error);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task A_hash_made_with_older_parameters_is_upgraded_at_sign_in()
    {
        var client = await AppWithPasswordGrantAsync();
        var weak = app.StartHost(b => b.UseSetting("ScaiKey:PasswordHashing:Iterations", "1"));
        string userId;
        try
        {
            using var weakAdmin = weak.CreateClient();
            weakAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                await ScaiKeyApp.GetTokenAsync(weak, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret));
            var created = await (await weakAdmin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users",
                new { email = "upgrade@example.com", password = Password })).ReadJsonAsync(201);
            userId = created["data"]!["id"]!.GetValue<string>();
        }
        finally
        {
            await app.StopHostAsync(weak);
        }

        Func<Task<string>> hash = () => app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.PasswordHash!).SingleAsync());
        Assert.Contains(",t=1,", await hash(), StringComparison.Ordinal);
        await OkAsync(await SignInAsync(client, "upgrade@example.com", Password));
        Assert.Contains(",t=2,", await hash(), StringComparison.Ordinal);
    }
}
