using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Issue 13, point 5: a locked, disabled or inactive account is no oracle. Whatever the password, it is answered
/// exactly like an unknown email or a wrong password (status and body, on the password grant and the hosted login),
/// every failure is counted on the user and audited, and the user learns of a lock by email.
/// </summary>
public sealed class SignInOracleTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string WrongPassword = "Wrong-Lantern-11!";

    /// <summary>A tenant (lockout after <paramref name="maxFailures"/>) with a WEB application allowed the password grant.</summary>
    internal static async Task<PasswordGrantClient> PasswordGrantClientAsync(ScaiKeyApp app, int maxFailures = 5, int lockMinutes = 15)
    {
        var tenant = await app.CreateTenantAsync(settings: new { lockout_policy = new { max_failed_attempts = maxFailures, lockout_duration_minutes = lockMinutes } });
        using var admin = await app.AdminAsync();
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenant}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Legacy portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201);
        return new PasswordGrantClient(tenant, slug, created["data"]!["client_id"]!.GetValue<string>(), created["data"]!["client_secret"]!.GetValue<string>());
    }

    private async Task<string> UserAsync(PasswordGrantClient client, string email, string status)
    {
        var id = await app.CreateUserIdAsync(client.TenantId, email, Password);
        if (status != "ACTIVE")
        {
            using var admin = await app.AdminAsync();
            await (await admin.PutAsJsonAsync($"/api/v1/tenants/{client.TenantId}/users/{id}/status", new { status })).ShouldBeAsync(200);
        }

        return id;
    }

    private Task<int> FailuresAsync(string userId) =>
        app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.FailedLoginAttempts).SingleAsync());

    private Task<List<AuditEvent>> FailedEventsAsync(string tenantId) =>
        app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenantId && e.Action == "user.sign_in_failed").ToListAsync());

    [Fact]
    public async Task Unknown_wrong_locked_disabled_and_inactive_get_the_same_password_grant_answer_and_all_are_counted_and_audited()
    {
        var client = await PasswordGrantClientAsync(app);
        await UserAsync(client, "wrong@example.com", "ACTIVE");
        var locked = await UserAsync(client, "locked@example.com", "LOCKED");
        var disabled = await UserAsync(client, "disabled@example.com", "DISABLED");
        var pending = await UserAsync(client, "pending@example.com", "ACTIVE");
        await app.DbAsync(db => db.Users.Where(u => u.Id == pending)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Status, UserStatus.PendingApproval)));

        using var http = app.Anonymous();
        var answers = new Dictionary<string, (HttpStatusCode Status, string? ContentType, string Body)>();
        foreach (var (name, email, password) in new[]
        {
            ("unknown email", "nobody@example.com", Password),
            ("wrong password", "wrong@example.com", WrongPassword),
            ("locked, right password", "locked@example.com", Password),
            ("locked, wrong password", "locked@example.com", WrongPassword),
            ("disabled, right password", "disabled@example.com", Password),
            ("inactive, right password", "pending@example.com", Password),
        })
        {
            var response = await client.SignInAsync(http, email, password);
            answers[name] = (response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
        }

        var reference = answers["wrong password"];
        Assert.Equal(HttpStatusCode.BadRequest, reference.Status);
        var error = JsonNode.Parse(reference.Body)!;
        Assert.Equal("invalid_grant", error["error"]!.GetValue<string>());
        Assert.Equal("Invalid email or password.", error["error_description"]!.GetValue<string>());
        Assert.All(answers, a => Assert.True(a.Value == reference, $"{a.Key}: {(int)a.Value.Status} {a.Value.ContentType} {a.Value.Body}\nwrong password: {reference.Body}"));

        // Every attempt on an existing account counted, whatever its status.
        Assert.Equal(2, await FailuresAsync(locked));
        Assert.Equal(1, await FailuresAsync(disabled));
        Assert.Equal(1, await FailuresAsync(pending));

        // Every failure audited with its reason; never the password, and never an unknown email in clear.
        var events = await FailedEventsAsync(client.TenantId);
        Assert.Equal(["disabled", "locked", "locked", "not_active", "unknown_email", "wrong_password"], events.Select(e => e.Reason).Order(StringComparer.Ordinal));
        Assert.Equal(2, events.Count(e => e.TargetId == locked));
        var unknown = Assert.Single(events, e => e.Reason == "unknown_email");
        Assert.Equal("email", unknown.TargetType);
        Assert.StartsWith("hmac:", unknown.TargetId, StringComparison.Ordinal);
        Assert.All(events, e => Assert.Equal("SYSTEM", e.ActorType));
        var everything = string.Join('\n', events.Select(e => $"{e.TargetId} {e.Reason} {e.ChangesJson}"));
        Assert.DoesNotContain("nobody", everything, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Lantern", everything, StringComparison.Ordinal);

        // The same email misses the same way each time, so an admin can see repeated attempts on it.
        await client.SignInAsync(http, "NOBODY@example.com", WrongPassword);
        Assert.Equal(2, (await FailedEventsAsync(client.TenantId)).Count(e => e.TargetId == unknown.TargetId));

        // Control: the right password on the active account signs in, and a locked account stays locked.
        await (await client.SignInAsync(http, "wrong@example.com", Password)).ReadJsonAsync(200);
        Assert.Equal(UserStatus.Locked, await app.DbAsync(db => db.Users.Where(u => u.Id == locked).Select(u => u.Status).SingleAsync()));
    }

    [Fact]
    public async Task The_hosted_login_shows_the_same_page_for_unknown_wrong_locked_disabled_and_inactive()
    {
        var client = await PasswordGrantClientAsync(app);
        await UserAsync(client, "page-wrong@example.com", "ACTIVE");
        var locked = await UserAsync(client, "page-locked@example.com", "LOCKED");
        var disabled = await UserAsync(client, "page-disabled@example.com", "DISABLED");
        var pending = await UserAsync(client, "page-pending@example.com", "ACTIVE");
        await app.DbAsync(db => db.Users.Where(u => u.Id == pending)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Status, UserStatus.PendingEmailVerification)));

        using var browser = app.Host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();
        async Task<string> AttemptAsync(string email, string password)
        {
            var response = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", email), ("password", password)));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK && response.Headers.Location is null, $"{email}: {(int)response.StatusCode}\n{body}");

            // The form echoes the typed email; everything else must be identical.
            return body.Replace(email, "EMAIL", StringComparison.Ordinal);
        }

        var reference = await AttemptAsync("page-wrong@example.com", WrongPassword);
        Assert.Contains("Invalid email or password.", reference, StringComparison.Ordinal);
        Assert.Equal(reference, await AttemptAsync("page-nobody@example.com", Password));
        Assert.Equal(reference, await AttemptAsync("page-locked@example.com", Password));
        Assert.Equal(reference, await AttemptAsync("page-disabled@example.com", Password));
        Assert.Equal(reference, await AttemptAsync("page-pending@example.com", Password));
        Assert.Empty(await app.DbAsync(db => db.UserSessions.Where(s => s.UserId == locked || s.UserId == disabled || s.UserId == pending).ToListAsync()));
        Assert.Equal(1, await FailuresAsync(locked));

        // Control: the right password on an active account signs in from the same form.
        var accepted = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", "page-wrong@example.com"), ("password", Password)));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Contains("You are signed in.", await accepted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Locking_mails_the_user_once_with_the_unlock_time_and_later_attempts_still_count()
    {
        var client = await PasswordGrantClientAsync(app, maxFailures: 2, lockMinutes: 15);
        var userId = await UserAsync(client, "mailed@example.com", "ACTIVE");
        using var http = app.Anonymous();
        await client.SignInAsync(http, "mailed@example.com", WrongPassword);
        Assert.Empty(await app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => m.ToAddress == "mailed@example.com").ToListAsync()));
        await client.SignInAsync(http, "mailed@example.com", WrongPassword);

        var user = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == userId));
        Assert.Equal(UserStatus.Locked, user.Status);
        var mail = Assert.Single(await app.DbAsync(db => db.EmailOutbox.AsNoTracking().Where(m => m.ToAddress == "mailed@example.com").ToListAsync()));
        Assert.Equal("account_locked", mail.Kind);
        Assert.Equal(client.TenantId, mail.TenantId);
        Assert.Contains("locked", mail.Subject, StringComparison.Ordinal);
        var body = app.OutboxBody(mail);
        var unlocks = user.LockedAt!.Value.AddMinutes(15).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"It unlocks at {unlocks} UTC", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Lantern", body, StringComparison.Ordinal);
        Assert.Equal(1, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.TargetId == userId && e.Action == "user.locked")));

        // Attempts on the locked account, even with the right password, count and are audited; no second mail.
        await client.SignInAsync(http, "mailed@example.com", Password);
        await client.SignInAsync(http, "mailed@example.com", WrongPassword);
        Assert.Equal(4, await FailuresAsync(userId));
        Assert.Equal(["locked", "locked", "wrong_password", "wrong_password"],
            (await FailedEventsAsync(client.TenantId)).Where(e => e.TargetId == userId).Select(e => e.Reason).Order(StringComparer.Ordinal));
        Assert.Equal(1, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == "mailed@example.com")));
    }

    [Fact]
    public async Task A_lock_until_an_admin_unlocks_says_so_in_the_mail()
    {
        var client = await PasswordGrantClientAsync(app, maxFailures: 1, lockMinutes: 0);
        await UserAsync(client, "forever@example.com", "ACTIVE");
        using var http = app.Anonymous();
        await client.SignInAsync(http, "forever@example.com", WrongPassword);

        var mail = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == "forever@example.com"));
        Assert.Contains("until an administrator unlocks it", app.OutboxBody(mail), StringComparison.Ordinal);
    }
}

/// <summary>A tenant's WEB application that may use the password grant (client_secret_basic).</summary>
internal sealed record PasswordGrantClient(string TenantId, string Slug, string ClientId, string Secret)
{
    public async Task<HttpResponseMessage> SignInAsync(HttpClient http, string email, string password, string? clientIp = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = "openid email",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")));
        if (clientIp is not null)
        {
            request.Headers.Add(ClientAddress.Header, clientIp);
        }

        return await http.SendAsync(request);
    }
}
