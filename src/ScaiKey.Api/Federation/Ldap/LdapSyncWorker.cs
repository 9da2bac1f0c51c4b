using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.SignIn;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>ScaiKey:Federation:Ldap: how often each instance looks for sync work, and how long a sync lease lasts.</summary>
internal sealed class LdapSyncOptions
{
    public const string Section = "ScaiKey:Federation:Ldap";

    /// <summary>How often an instance looks for queued jobs and due periodic syncs (a POST on this instance wakes it at once).</summary>
    public int PollSeconds { get; set; } = 15;

    /// <summary>A sync's lease on its provider; renewed after every batch, so it only runs out when its instance died.</summary>
    public int LeaseSeconds { get; set; } = 300;
}

internal sealed class LdapSyncOptionsValidator : IValidateOptions<LdapSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, LdapSyncOptions options) =>
        options.PollSeconds is < 1 or > 3600 ? ValidateOptionsResult.Fail($"{LdapSyncOptions.Section}:PollSeconds must be between 1 and 3600.")
        : options.LeaseSeconds is < 30 or > 86400 ? ValidateOptionsResult.Fail($"{LdapSyncOptions.Section}:LeaseSeconds must be between 30 and 86400.")
        : ValidateOptionsResult.Success;
}

/// <summary>
/// Runs LDAP sync jobs on every instance: jobs an admin queued (RUNNING rows no instance holds the lease for, which
/// also picks up a job whose instance died once its lease ran out) and the periodic incremental sync of providers
/// whose sync_interval_minutes elapsed since LastSyncedAt. A provider's sync runs only under its lease
/// (IdentityProvider.SyncLeaseOwner/SyncLeaseExpiresAt), taken with a conditional update that one instance wins,
/// so two instances never run one provider's sync at once.
/// </summary>
internal sealed class LdapSyncWorker(IServiceScopeFactory scopes, TimeProvider time, IOptions<LdapSyncOptions> options, ILogger<LdapSyncWorker> logger)
    : BackgroundService
{
    public const string Running = "RUNNING";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";

    private readonly SemaphoreSlim _wake = new(0);

    // One round at a time on an instance. The lease is held per instance (its renewal during a long run asks for it
    // again under the same name), so two rounds of one instance side by side would both "hold" it and run one job
    // twice: the second run then failed on the first's users (a CI run caught it, the loop's round beside a test's).
    private readonly SemaphoreSlim _round = new(1, 1);

    /// <summary>This instance's name on the leases it holds.</summary>
    public string InstanceId { get; } = Ids.New();

    private TimeSpan Lease => TimeSpan.FromSeconds(options.Value.LeaseSeconds);

    /// <summary>Look for work now (a job was just queued on this instance).</summary>
    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database may be briefly away; the jobs wait in their table for the next round.
                logger.LogWarning("LDAP sync round failed: {Error}", e.GetType().Name + ": " + e.Message);
            }

            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(options.Value.PollSeconds), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round: every queued job whose provider's lease is free, then every due periodic sync.</summary>
    public async Task RunDueAsync(CancellationToken ct)
    {
        await _round.WaitAsync(ct);
        try
        {
            await RunRoundAsync(ct);
        }
        finally
        {
            _round.Release();
        }
    }

    private async Task RunRoundAsync(CancellationToken ct)
    {
        List<(string JobId, string ProviderId)> queued;
        List<IdentityProvider> ldap;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
            var now = time.UtcNow();
            queued = (await db.IdentityProviderSyncJobs.AsNoTracking().Where(j => j.Status == Running)
                    .Join(db.IdentityProviders.AsNoTracking().Where(p => p.SyncLeaseOwner == null || p.SyncLeaseExpiresAt < now),
                        j => j.IdentityProviderId, p => p.Id, (j, p) => new { j.Id, j.IdentityProviderId, j.CreatedAt })
                    .ToListAsync(ct))
                .OrderBy(j => j.CreatedAt).Select(j => (j.Id, j.IdentityProviderId)).ToList();
            ldap = await db.IdentityProviders.AsNoTracking()
                .Where(p => p.Type == LdapSync.ProviderType && p.Enabled && (p.SyncLeaseOwner == null || p.SyncLeaseExpiresAt < now)
                    && !db.IdentityProviderSyncJobs.Any(j => j.IdentityProviderId == p.Id && j.Status == Running)
                    // A deleted tenant is not repopulated by its directory (found in the attacker's review).
                    && db.Tenants.Any(t => t.Id == p.TenantId && t.DeletedAt == null))
                .ToListAsync(ct);
        }

        foreach (var providerId in queued.Select(q => q.ProviderId).Distinct(StringComparer.Ordinal))
        {
            await RunLeasedAsync(providerId, null, ct);
        }

        foreach (var provider in ldap.Where(p => IsDue(p, time.UtcNow())))
        {
            await RunLeasedAsync(provider.Id, provider.SyncCursor is null ? LdapSync.Full : LdapSync.Incremental, ct);
        }
    }

    /// <summary>How often the periodic sync runs a full pass, which alone disables users who left the directory.</summary>
    public static readonly TimeSpan FullSyncEvery = TimeSpan.FromHours(24);

    private static bool IsDue(IdentityProvider provider, DateTime now)
    {
        var minutes = JsonNode.Parse(provider.ConfigJson)?["sync_interval_minutes"] is JsonValue v && v.TryGetValue(out int m) ? m : 0;
        return minutes > 0 && (provider.LastSyncedAt is not { } last || last.AddMinutes(minutes) <= now);
    }

    /// <summary>
    /// Takes the provider's lease and runs its oldest queued job, or (<paramref name="periodicKind"/> set) a new
    /// periodic job; does nothing when another instance holds the lease. The lease is given back at the end.
    /// </summary>
    private async Task RunLeasedAsync(string providerId, string? periodicKind, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        if (!await TryLeaseAsync(db, providerId, InstanceId, time.UtcNow(), Lease, ct))
        {
            return;
        }

        try
        {
            var provider = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId, ct);
            if (provider is null)
            {
                return;
            }

            // Read again under the lease: another instance may have run this periodic sync since the round's list.
            if (periodicKind is not null && (!IsDue(provider, time.UtcNow())
                || await db.IdentityProviderSyncJobs.AnyAsync(j => j.IdentityProviderId == providerId && j.Status == Running, ct)))
            {
                return;
            }

            IdentityProviderSyncJob? job;
            if (periodicKind is null)
            {
                job = await db.IdentityProviderSyncJobs.AsNoTracking().Where(j => j.IdentityProviderId == providerId && j.Status == Running)
                    .OrderBy(j => j.CreatedAt).FirstOrDefaultAsync(ct);
            }
            else
            {
                // An incremental run cannot see entries that were deleted: once a day the periodic run is a full
                // one, so people who left the directory are disabled without an admin's full sync (found in the
                // attacker's review).
                var now = time.UtcNow();
                if (periodicKind == LdapSync.Incremental && !await db.IdentityProviderSyncJobs.AnyAsync(
                        j => j.IdentityProviderId == providerId && j.Kind == LdapSync.Full && j.Status == Succeeded && j.CreatedAt > now - FullSyncEvery, ct))
                {
                    periodicKind = LdapSync.Full;
                }

                job = new IdentityProviderSyncJob
                {
                    Id = Ids.New(), TenantId = provider.TenantId, IdentityProviderId = providerId, Kind = periodicKind, Status = Running,
                    CreatedAt = time.UtcNow(),
                };
                db.IdentityProviderSyncJobs.Add(job);
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }

            if (job is not null)
            {
                await RunJobAsync(scope.ServiceProvider, provider, job, ct);
            }
        }
        finally
        {
            await ReleaseAsync(db, providerId, InstanceId, CancellationToken.None);
        }
    }

    private async Task RunJobAsync(IServiceProvider services, IdentityProvider provider, IdentityProviderSyncJob job, CancellationToken ct)
    {
        var db = services.GetRequiredService<ScaiKeyDbContext>();
        var audit = services.GetRequiredService<AuditLog>();
        LdapSyncCounts counts = new();
        string? cursor = provider.SyncCursor;
        string? failure = null;
        if (provider.Type != LdapSync.ProviderType || !provider.Enabled)
        {
            failure = "The identity provider is disabled or is not an LDAP provider; nothing was synced.";
        }
        else if (!await db.Tenants.AnyAsync(t => t.Id == provider.TenantId && t.DeletedAt == null, ct))
        {
            // A job queued before its tenant was deleted must not repopulate it, as the periodic runs do not (found in
            // a review: the round's deleted-tenant check covered only periodic syncs).
            failure = "The tenant was deleted; nothing was synced.";
        }
        else
        {
            try
            {
                var sync = services.GetRequiredService<LdapSync>();
                (counts, cursor) = await sync.RunAsync(provider, job, async () =>
                {
                    if (!await TryLeaseAsync(db, provider.Id, InstanceId, time.UtcNow(), Lease, ct))
                    {
                        throw new InvalidOperationException("The sync lease was lost to another instance.");
                    }
                }, ct);
            }
            catch (LdapUnavailableException e)
            {
                failure = e.Message;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("LDAP sync job {JobId} of identity provider {ProviderId} failed: {Error}", job.Id, provider.Id, e.GetType().Name + ": " + e.Message);
                failure = "The sync stopped on an internal error (" + e.GetType().Name + "); see the service log.";
            }
        }

        var now = time.UtcNow();
        var detail = failure ?? (counts.Details.Count == 0 ? null : string.Join("\n", counts.Details));
        if (detail?.Length > 4000)
        {
            detail = detail[..4000];
        }

        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await db.IdentityProviderSyncJobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, failure is null ? Succeeded : Failed)
            .SetProperty(j => j.Created, counts.Created)
            .SetProperty(j => j.Updated, counts.Updated)
            .SetProperty(j => j.Disabled, counts.Disabled)
            .SetProperty(j => j.Errors, counts.Errors)
            .SetProperty(j => j.ErrorDetail, detail)
            .SetProperty(j => j.FinishedAt, now), CancellationToken.None);

        // A failed run keeps the old cursor (its entries are read again next time) but counts as a run, so a
        // directory that is down is retried at the next interval, not every poll.
        await db.IdentityProviders.Where(p => p.Id == provider.Id && p.SyncLeaseOwner == InstanceId).ExecuteUpdateAsync(s => s
            .SetProperty(p => p.SyncCursor, failure is null ? cursor : provider.SyncCursor)
            .SetProperty(p => p.LastSyncedAt, now), CancellationToken.None);
        audit.RecordAs(SignInService.SystemActor, LdapSync.AuditActor, failure is null ? "identity_provider.sync_succeeded" : "identity_provider.sync_failed",
            "identity_provider", provider.Id, provider.TenantId, null,
            $"job {job.Id} ({job.Kind}): {counts.Created} created, {counts.Updated} updated, {counts.Disabled} disabled, {counts.Errors} errors"
            + (failure is null ? "" : "; " + failure));
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>
    /// Takes (or renews) the provider's sync lease for <paramref name="owner"/>: one conditional update, which only
    /// succeeds when nobody else holds an unexpired lease, so of two instances trying at once exactly one wins.
    /// </summary>
    public static async Task<bool> TryLeaseAsync(ScaiKeyDbContext db, string providerId, string owner, DateTime now, TimeSpan lease, CancellationToken ct) =>
        await db.IdentityProviders
            .Where(p => p.Id == providerId && (p.SyncLeaseOwner == null || p.SyncLeaseOwner == owner || p.SyncLeaseExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.SyncLeaseOwner, owner).SetProperty(p => p.SyncLeaseExpiresAt, now + lease), ct) == 1;

    public static Task<int> ReleaseAsync(ScaiKeyDbContext db, string providerId, string owner, CancellationToken ct) =>
        db.IdentityProviders.Where(p => p.Id == providerId && p.SyncLeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.SyncLeaseOwner, (string?)null).SetProperty(p => p.SyncLeaseExpiresAt, (DateTime?)null), ct);

    public override void Dispose()
    {
        // _round is left undisposed: a round still ending may release it, and it holds no wait handle to free.
        _wake.Dispose();
        base.Dispose();
    }
}
