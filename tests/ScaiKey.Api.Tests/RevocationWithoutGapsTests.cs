using System.Data.Common;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;
using ScaiKey.Data;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Revocation without gaps: deleting a client ends its users' and its own tokens at once, revocation caches are
/// dropped after the commit (a request in between must not cache "still active"), and introspection answers
/// active: false for every token the API refuses.
/// </summary>
public sealed class RevocationWithoutGapsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Deleting_an_application_ends_its_users_tokens_and_its_own_at_once()
    {
        var portal = await PasswordGrantApp.CreateAsync(app);
        var userId = await portal.CreateUserAsync(app);
        using var http = app.Anonymous();
        var tokens = await portal.SignInAsync(http, await portal.EmailOfAsync(app, userId));
        var access = tokens["access_token"]!.GetValue<string>();
        var own = await portal.ClientTokenAsync(http);
        Assert.Equal(200, await portal.UserTokenStatusAsync(http, access));
        Assert.NotEqual(401, await portal.ApiStatusAsync(http, own));

        // Control: another application of the tenant, whose tokens must survive.
        var other = await PasswordGrantApp.CreateAsync(app);
        var otherUser = await other.CreateUserAsync(app);
        var otherTokens = await other.SignInAsync(http, await other.EmailOfAsync(app, otherUser));
        var otherOwn = await other.ClientTokenAsync(http);

        using (var admin = await app.AdminAsync())
        {
            await (await admin.DeleteAsync($"/api/v1/tenants/{portal.TenantId}/applications/{portal.ApplicationId}")).ShouldBeAsync(204);
        }

        Assert.Equal(401, await portal.UserTokenStatusAsync(http, access));
        var refused = await portal.ApiStatusAsync(http, own);
        Assert.Equal(401, refused);
        using (var userinfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo"))
        {
            userinfo.Headers.Authorization = new("Bearer", access);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.SendAsync(userinfo)).StatusCode);
        }

        var grant = await app.DbAsync(db => db.TokenGrants.AsNoTracking().SingleAsync(g => g.ClientId == portal.ClientId));
        Assert.NotNull(grant.RevokedAt);
        Assert.Equal("application_deleted", grant.RevokedReason);

        Assert.Equal(200, await other.UserTokenStatusAsync(http, otherTokens["access_token"]!.GetValue<string>()));
        Assert.NotEqual(401, await other.ApiStatusAsync(http, otherOwn));
        await (await other.RefreshAsync(http, otherTokens["refresh_token"]!.GetValue<string>())).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Deleting_an_admin_client_ends_its_tokens_with_401_at_once()
    {
        var (id, clientId, secret) = await app.CreateAdminClientAsync();
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
            new { principal_type = "CLIENT", principal_id = clientId, role = "PLATFORM_ADMIN" })).ShouldBeAsync(201);
        using var client = app.WithToken(await app.GetTokenAsync(clientId, secret));
        await (await client.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);

        await (await admin.DeleteAsync($"/api/v1/admin/clients/{id}")).ShouldBeAsync(204);

        var refused = await client.GetAsync("/api/v1/admin/tenants");
        await refused.ShouldBeAsync(401);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("terminate_sessions")]
    [InlineData("revoke_refresh_token")]
    [InlineData("delete")]
    public async Task Introspection_answers_inactive_for_a_token_the_api_refuses(string revocation)
    {
        var portal = await PasswordGrantApp.CreateAsync(app);
        var userId = await portal.CreateUserAsync(app);
        var email = await portal.EmailOfAsync(app, userId);
        using var http = app.Anonymous();
        var tokens = await portal.SignInAsync(http, email);
        var access = tokens["access_token"]!.GetValue<string>();
        var refresh = tokens["refresh_token"]!.GetValue<string>();

        // Control: the same token before the revocation is active, for the application that holds it.
        var before = await portal.IntrospectAsync(http, access);
        Assert.True(before["active"]!.GetValue<bool>(), before.ToJsonString());
        Assert.Equal(userId, before["sub"]!.GetValue<string>());
        Assert.True((await portal.IntrospectAsync(http, refresh))["active"]!.GetValue<bool>());

        using (var admin = await app.AdminAsync())
        {
            var users = $"/api/v1/tenants/{portal.TenantId}/users/{userId}";
            var response = revocation switch
            {
                "disable" => await admin.PutAsJsonAsync(users + "/status", new { status = "DISABLED" }),
                "terminate_sessions" => await admin.PutAsJsonAsync(users + "/status", new { status = "ACTIVE", terminate_sessions = true }),
                "revoke_refresh_token" => await http.SendAsync(portal.Post("/connect/revoke", new() { ["token"] = refresh, ["token_type_hint"] = "refresh_token" })),
                _ => await admin.DeleteAsync(users + "?confirm_email=" + Uri.EscapeDataString(email)),
            };
            Assert.True(response.IsSuccessStatusCode, $"{revocation}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(401, await portal.UserTokenStatusAsync(http, access));
        var after = await portal.IntrospectAsync(http, access);
        Assert.Equal("""{"active":false}""", after.ToJsonString());
        Assert.False((await portal.IntrospectAsync(http, refresh))["active"]!.GetValue<bool>());
    }

    /// <summary>
    /// A request that reads the user's standing after the revocation was written but before it committed sees the
    /// old row ("active"). Had the cache been dropped before the commit, that answer would be cached anew and the
    /// revoked token accepted for the cache's lifetime; dropped after the commit, the answer is unreachable. The
    /// request runs inside the commit (a transaction interceptor), and the host's cache clock stands still, so the
    /// outcome does not depend on timing.
    /// </summary>
    [Fact]
    public async Task A_request_between_a_revocation_and_its_commit_does_not_cache_still_active()
    {
        var probe = new CommitProbe();
        var host = app.StartHost(b => b.ConfigureServices(services =>
        {
            services.AddSingleton(probe);
            services.ConfigureDbContext<ScaiKeyDbContext>((sp, options) => options.AddInterceptors(new CommitInterceptor(probe, sp.GetRequiredService<IHttpContextAccessor>())));
            services.Configure<MemoryCacheOptions>(options => options.Clock = new StoppedClock());
        }));

        var portal = await PasswordGrantApp.CreateAsync(app);
        var userId = await portal.CreateUserAsync(app);
        using var http = host.CreateClient();
        var access = (await portal.SignInAsync(http, await portal.EmailOfAsync(app, userId)))["access_token"]!.GetValue<string>();
        Assert.Equal(200, await portal.UserTokenStatusAsync(http, access));

        probe.Arm($"/api/v1/tenants/{portal.TenantId}/users/{userId}/status", () => portal.UserTokenStatusAsync(host.CreateClient(), access));
        using (var admin = host.CreateClient())
        {
            admin.DefaultRequestHeaders.Authorization = new("Bearer", await app.GetTokenAsync(ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret));
            await (await admin.PutAsJsonAsync($"/api/v1/tenants/{portal.TenantId}/users/{userId}/status", new { status = "DISABLED" })).ShouldBeAsync(200);
        }

        // The probe ran between the write and the commit and saw the user still active, as any reader would.
        Assert.Equal(200, probe.Status);
        Assert.Equal(401, await portal.UserTokenStatusAsync(http, access));
    }

    /// <summary>Runs a request once, while the armed path's transaction is about to commit.</summary>
    private sealed class CommitProbe
    {
        private string? _path;
        private Func<Task<int>>? _request;

        public int? Status { get; private set; }

        public void Arm(string path, Func<Task<int>> request) => (_path, _request) = (path, request);

        public async Task RunIfArmedAsync(HttpContext? http)
        {
            if (_request is { } request && http?.Request.Path.Value == _path)
            {
                _request = null;
                Status = await request();
            }
        }
    }

    private sealed class CommitInterceptor(CommitProbe probe, IHttpContextAccessor accessor) : DbTransactionInterceptor
    {
        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(
            DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            await probe.RunIfArmedAsync(accessor.HttpContext);
            return result;
        }
    }

    private sealed class StoppedClock : ISystemClock
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public DateTimeOffset UtcNow => _now;
    }
}
