using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Operations;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>The purge of rows nothing can use any more: what goes, what stays, and one instance at a time.</summary>
public sealed class HousekeepingTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly DateTime Now = DateTime.UtcNow;

    private async Task<(string Tenant, string User)> UserAsync()
    {
        var tenant = await app.CreateTenantAsync();
        return (tenant, await app.CreateUserIdAsync(tenant, password: "Quartz-Lantern-93!"));
    }

    private static UserSession Session(string tenant, string user, DateTime lastSeen, DateTime? revoked = null) => new()
    {
        Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, CreatedAt = lastSeen, LastSeenAt = lastSeen, RevokedAt = revoked,
    };

    private static TokenGrant Grant(string tenant, string user, string session, DateTime created, DateTime? revoked = null) => new()
    {
        Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, SessionId = session, ClientId = "c", CreatedAt = created, RevokedAt = revoked,
    };

    private static UserActionToken Link(string tenant, string user, DateTime expires) => new()
    {
        Id = Guid.NewGuid().ToString(), TenantId = tenant, UserId = user, Purpose = "PASSWORD_RESET",
        TokenHash = Guid.NewGuid().ToString("N"), CreatedAt = expires.AddHours(-1), ExpiresAt = expires,
    };

    [Fact]
    public async Task Ended_rows_past_the_retention_are_purged_in_batches_and_live_ones_kept()
    {
        var (tenant, user) = await UserAsync();
        var old = Now.AddDays(-30);
        var liveSession = Session(tenant, user, Now);
        var revokedLong = Session(tenant, user, old, revoked: old);
        var revokedRecently = Session(tenant, user, Now.AddDays(-1), revoked: Now.AddDays(-1));
        var idleWithChain = Session(tenant, user, old);
        var liveChain = Grant(tenant, user, idleWithChain.Id, Now.AddDays(-2));
        var deadChain = Grant(tenant, user, liveSession.Id, old, revoked: old);
        var links = Enumerable.Range(0, 25).Select(_ => Link(tenant, user, old)).ToList();
        var liveLink = Link(tenant, user, Now.AddHours(1));
        var idempotencyOld = new IdempotencyRecord
        {
            Id = Guid.NewGuid().ToString(), PrincipalId = "p", Scope = "s", Key = "old", RequestHash = "h", ResponseBody = "{}", CreatedAt = Now.AddHours(-25),
        };
        var idempotencyNew = new IdempotencyRecord
        {
            Id = Guid.NewGuid().ToString(), PrincipalId = "p", Scope = "s", Key = "new", RequestHash = "h", ResponseBody = "{}", CreatedAt = Now.AddHours(-1),
        };
        await app.DbAsync(db =>
        {
            db.UserSessions.AddRange(liveSession, revokedLong, revokedRecently, idleWithChain);
            db.TokenGrants.AddRange(liveChain, deadChain);
            db.UserActionTokens.AddRange(links);
            db.UserActionTokens.Add(liveLink);
            db.IdempotencyRecords.AddRange(idempotencyOld, idempotencyNew);
            db.MaintenanceLeases.RemoveRange(db.MaintenanceLeases);
            return db.SaveChangesAsync();
        });

        // A batch of 10 takes three statements for the 25 expired links.
        var host = app.StartHost(b => b.UseSetting("ScaiKey:Housekeeping:BatchSize", "10"));
        var result = await host.Services.GetRequiredService<Housekeeping>().RunOnceAsync(CancellationToken.None);
        await app.StopHostAsync(host);

        Assert.NotNull(result);
        Assert.True(result.Deleted["user_action_tokens"] >= 25, string.Join(", ", result.Deleted));
        var sessions = await app.DbAsync(db => db.UserSessions.AsNoTracking().Where(s => s.UserId == user).Select(s => s.Id).ToListAsync());
        Assert.Equal(new[] { liveSession.Id, revokedRecently.Id, idleWithChain.Id }.Order(), sessions.Order());
        var grants = await app.DbAsync(db => db.TokenGrants.AsNoTracking().Where(g => g.UserId == user).Select(g => g.Id).ToListAsync());
        Assert.Equal([liveChain.Id], grants);
        var left = await app.DbAsync(db => db.UserActionTokens.AsNoTracking().Where(t => t.UserId == user).Select(t => t.Id).ToListAsync());
        Assert.Equal([liveLink.Id], left);
        var keys = await app.DbAsync(db => db.IdempotencyRecords.AsNoTracking().Where(r => r.PrincipalId == "p").Select(r => r.Key).ToListAsync());
        Assert.Equal(["new"], keys);

        // Audit events are kept by default.
        Assert.False(result.Deleted.ContainsKey("audit_events"));
    }

    [Fact]
    public async Task Two_instances_never_both_purge_and_audit_retention_applies_only_when_set()
    {
        var (tenant, user) = await UserAsync();
        var oldEvent = new AuditEvent
        {
            Id = Guid.NewGuid().ToString(), TenantId = tenant, ActorType = "USER", ActorId = user, Action = "test.old", TargetType = "user",
            TargetId = user, CreatedAt = Now.AddDays(-400),
        };
        await app.DbAsync(db =>
        {
            db.AuditEvents.Add(oldEvent);
            db.MaintenanceLeases.RemoveRange(db.MaintenanceLeases);
            return db.SaveChangesAsync();
        });

        static void Settings(Microsoft.AspNetCore.Hosting.IWebHostBuilder b) => b.UseSetting("ScaiKey:Housekeeping:AuditRetentionDays", "365");
        var first = app.StartHost(Settings);
        var second = app.StartHost(Settings);
        var results = await Task.WhenAll(
            first.Services.GetRequiredService<Housekeeping>().RunOnceAsync(CancellationToken.None),
            second.Services.GetRequiredService<Housekeeping>().RunOnceAsync(CancellationToken.None));
        Assert.Single(results, r => r is not null);
        Assert.Single(results, r => r is null);
        Assert.Equal(1, results.Single(r => r is not null)!.Deleted["audit_events"]);
        Assert.False(await app.DbAsync(db => db.AuditEvents.AnyAsync(e => e.Id == oldEvent.Id)));

        // The lease holds for the interval: neither purges again before it ends.
        Assert.Null(await first.Services.GetRequiredService<Housekeeping>().RunOnceAsync(CancellationToken.None));
        Assert.Null(await second.Services.GetRequiredService<Housekeeping>().RunOnceAsync(CancellationToken.None));
        await app.StopHostAsync(first);
        await app.StopHostAsync(second);
    }

    [Fact]
    public async Task A_wrong_setting_stops_the_service_at_start_naming_the_key()
    {
        var error = Assert.ThrowsAny<Exception>(() => app.StartHost(b => b.UseSetting("ScaiKey:Housekeeping:BatchSize", "0")));
        Assert.Contains("ScaiKey:Housekeeping:BatchSize must be between 10 and 10000", error.ToString(), StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}
