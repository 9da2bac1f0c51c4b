using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.SignIn;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Operations;

/// <summary>How many rows one purge deleted, per kind; null from <see cref="Housekeeping.RunOnceAsync"/> when another instance holds the lease.</summary>
internal sealed record PurgeResult(IReadOnlyDictionary<string, int> Deleted)
{
    public int Total => Deleted.Values.Sum();
}

/// <summary>
/// Purges rows that nothing can use any more, in small batches (each its own statement, so no table stays locked
/// for long): token chains revoked, or idle past the refresh-token lifetime, more than KeepEndedDays ago; sessions
/// revoked, or idle past the sign-in cookie and refresh-token lifetimes, with no token chain left; expired or used
/// email links, expired sign-in steps (MFA, federation), assertion ids past their validity, idempotency records
/// past their 24 hours; audit events only when AuditRetentionDays is set. One instance purges per interval: the
/// "housekeeping" lease (maintenance_leases) is taken with a conditional write and held for the interval.
/// </summary>
internal sealed class Housekeeping(
    IServiceScopeFactory scopes, IOptions<HousekeepingOptions> options, IOptionsMonitor<OpenIddictServerOptions> server,
    IOptionsMonitor<CookieAuthenticationOptions> cookies, TimeProvider time, ILogger<Housekeeping> logger)
{
    public const string LeaseName = "housekeeping";

    // Rounds per kind and run: a backlog is worked off over several intervals rather than in one long run.
    private const int MaxBatchesPerKind = 200;

    /// <summary>This instance, as the lease's owner.</summary>
    public string InstanceId { get; } = Ids.New();

    /// <summary>One purge, or null when another instance holds the lease for this interval.</summary>
    public async Task<PurgeResult?> RunOnceAsync(CancellationToken ct)
    {
        var settings = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var now = time.UtcNow();
        if (!await TakeLeaseAsync(db, now, TimeSpan.FromMinutes(settings.IntervalMinutes), ct))
        {
            return null;
        }

        var keep = TimeSpan.FromDays(settings.KeepEndedDays);
        var ended = now - keep;
        var refresh = server.CurrentValue.RefreshTokenLifetime ?? TimeSpan.FromDays(14);
        var cookie = cookies.Get(SignInCookies.Scheme).ExpireTimeSpan;
        var chainIdle = now - refresh - keep;
        var sessionIdle = now - (refresh > cookie ? refresh : cookie) - keep;
        var batch = settings.BatchSize;
        var deleted = new Dictionary<string, int>(StringComparer.Ordinal);

        // Token chains first: a session is purged only once no chain refers to it.
        deleted["token_grants"] = await PurgeAsync(() => db.TokenGrants.Where(g => db.TokenGrants
            .Where(x => (x.RevokedAt != null && x.RevokedAt < ended)
                || (x.RevokedAt == null && (x.LastRefreshedAt ?? x.CodeRedeemedAt ?? x.CreatedAt) < chainIdle))
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(g.Id)).ExecuteDeleteAsync(ct), batch, ct);
        deleted["user_sessions"] = await PurgeAsync(() => db.UserSessions.Where(s => db.UserSessions
            .Where(x => ((x.RevokedAt != null && x.RevokedAt < ended) || (x.RevokedAt == null && x.LastSeenAt < sessionIdle))
                && !db.TokenGrants.Any(g => g.SessionId == x.Id))
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(s.Id)).ExecuteDeleteAsync(ct), batch, ct);
        deleted["user_action_tokens"] = await PurgeAsync(() => db.UserActionTokens.Where(t => db.UserActionTokens
            .Where(x => x.ExpiresAt < ended)
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(t.Id)).ExecuteDeleteAsync(ct), batch, ct);
        deleted["mfa_challenges"] = await PurgeAsync(() => db.MfaChallenges.Where(c => db.MfaChallenges
            .Where(x => x.ExpiresAt < ended)
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(c.Id)).ExecuteDeleteAsync(ct), batch, ct);
        deleted["federation_requests"] = await PurgeAsync(() => db.FederationRequests.Where(r => db.FederationRequests
            .Where(x => x.ExpiresAt < ended)
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(r.Id)).ExecuteDeleteAsync(ct), batch, ct);

        // An assertion id matters only while the assertion could still be accepted.
        deleted["federation_replays"] = await PurgeAsync(() => db.FederationReplays.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct), int.MaxValue, ct);

        // The Idempotency-Key window is 24 hours.
        var idempotent = now - TimeSpan.FromHours(24);
        deleted["idempotency_records"] = await PurgeAsync(() => db.IdempotencyRecords.Where(r => db.IdempotencyRecords
            .Where(x => x.CreatedAt < idempotent)
            .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(r.Id)).ExecuteDeleteAsync(ct), batch, ct);

        if (settings.AuditRetentionDays is { } days)
        {
            var audit = now - TimeSpan.FromDays(days);
            deleted["audit_events"] = await PurgeAsync(() => db.AuditEvents.Where(e => db.AuditEvents
                .Where(x => x.CreatedAt < audit)
                .OrderBy(x => x.Id).Take(batch).Select(x => x.Id).Contains(e.Id)).ExecuteDeleteAsync(ct), batch, ct);
        }

        var result = new PurgeResult(deleted);
        if (result.Total > 0)
        {
            logger.LogInformation("Housekeeping purged {Total} rows: {Counts}", result.Total,
                string.Join(", ", deleted.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}")));
        }

        return result;
    }

    /// <summary>Runs one batch statement until it deletes less than a full batch (or the per-run cap).</summary>
    private static async Task<int> PurgeAsync(Func<Task<int>> deleteBatch, int batch, CancellationToken ct)
    {
        var total = 0;
        for (var round = 0; round < MaxBatchesPerKind; round++)
        {
            var deleted = await deleteBatch();
            total += deleted;
            if (deleted < batch)
            {
                break;
            }

            ct.ThrowIfCancellationRequested();
        }

        return total;
    }

    /// <summary>
    /// Takes the lease for <paramref name="hold"/> when it is free or expired (a conditional update, or the first
    /// insert of the row): of instances racing for it, exactly one wins.
    /// </summary>
    private async Task<bool> TakeLeaseAsync(ScaiKeyDbContext db, DateTime now, TimeSpan hold, CancellationToken ct)
    {
        var until = now + hold - TimeSpan.FromSeconds(5);
        var taken = await db.MaintenanceLeases.Where(l => l.Name == LeaseName && l.ExpiresAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, InstanceId).SetProperty(l => l.ExpiresAt, until), ct);
        if (taken == 1)
        {
            return true;
        }

        if (await db.MaintenanceLeases.AsNoTracking().AnyAsync(l => l.Name == LeaseName, ct))
        {
            return false;
        }

        db.MaintenanceLeases.Add(new MaintenanceLease { Name = LeaseName, Owner = InstanceId, ExpiresAt = until });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, out _))
        {
            return false;
        }
    }
}

/// <summary>Runs <see cref="Housekeeping"/> every interval while ScaiKey:Housekeeping:Enabled.</summary>
internal sealed class HousekeepingService(Housekeeping housekeeping, IOptions<HousekeepingOptions> options, TimeProvider time, ILogger<HousekeepingService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        var interval = TimeSpan.FromMinutes(options.Value.IntervalMinutes);
        try
        {
            // Not at start: a fleet restarting together would otherwise race for the lease at once, and start-up
            // has enough to do.
            await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await housekeeping.RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The rows wait for the next interval; a purge is never urgent.
                    logger.LogWarning("Housekeeping failed: {Error}", e.GetType().Name + ": " + e.Message);
                }

                await Task.Delay(interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public static IServiceCollection AddTo(IServiceCollection services)
    {
        services.AddOptions<HousekeepingOptions>().BindConfiguration(HousekeepingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HousekeepingOptions>, HousekeepingOptionsValidator>();
        services.AddSingleton<Housekeeping>();
        services.AddHostedService<HousekeepingService>();
        return services;
    }
}
