using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>What one run of <see cref="EmailNormalizationStep"/> did.</summary>
internal sealed record EmailNormalizationReport(long Scanned, long Renormalized, IReadOnlyList<EmailCollision> Collisions);

/// <summary>A live user whose renormalized key another live user of its tenant already holds: left unchanged.</summary>
internal sealed record EmailCollision(string TenantId, string UserId, string OtherUserId);

/// <summary>
/// Brings <c>users.email_normalized</c> written by the earlier rule (trim + lower case) to
/// <see cref="EmailAddresses.Normalize"/> (NFC, IDNA ASCII domain) once, after the schema migrations: EF cannot run
/// .NET's IDNA inside SQL. It streams all users in id order in batches and updates only rows whose key changes, a batch's
/// updates in one transaction.
/// Where a live user's new key is already held by another live user of its tenant it neither fails nor merges: that
/// row keeps its old key, and the collision is an audit event (<c>user.email_collision</c> on the user, naming the
/// other user), a warning log line with ids only, and a line in the step's report (<c>data_steps.report</c>).
/// Instances starting together: the <c>data_steps</c> row is the claim (one insert wins); a claim not renewed for
/// <see cref="Lease"/> (its instance died) may be taken over; a completed step never runs again.
/// </summary>
internal sealed class EmailNormalizationStep(ScaiKeyDbContext db, TimeProvider time, ILogger<EmailNormalizationStep> logger)
{
    public const string Name = "email-normalization-idna-nfc";
    public const string CollisionAction = "user.email_collision";

    internal static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private const int BatchSize = 1000;

    // Ids listed in the report row; the audit events hold all of them.
    private const int ReportedIds = 100;

    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private sealed record Row(string Id, string TenantId, string Email, string EmailNormalized, bool Deleted);

    private sealed record Change(Row Row, string Key);

    /// <summary>Runs the step unless it is done or another instance holds it; null when it did not run.</summary>
    public async Task<EmailNormalizationReport?> RunAsync(CancellationToken ct)
    {
        if (!await ClaimAsync(ct))
        {
            return null;
        }

        long scanned = 0, renormalized = 0;
        var collisions = new List<EmailCollision>();
        string? after = null;
        var renewed = time.GetTimestamp();
        while (true)
        {
            // Keyset paging: the id condition only when there is one, so the index seek is not hidden behind an OR.
            var users = db.Users.AsNoTracking();
            if (after is not null)
            {
                users = users.Where(u => string.Compare(u.Id, after) > 0);
            }

            var batch = await users.OrderBy(u => u.Id).Take(BatchSize)
                .Select(u => new Row(u.Id, u.TenantId, u.Email, u.EmailNormalized, u.DeletedAt != null))
                .ToListAsync(ct);
            if (batch.Count == 0)
            {
                break;
            }

            scanned += batch.Count;
            after = batch[^1].Id;
            var changes = batch.Select(row => new Change(row, EmailAddresses.Normalize(row.Email)))
                .Where(c => c.Key != c.Row.EmailNormalized).ToList();
            if (changes.Count > 0)
            {
                var found = await ApplyAsync(changes, ct);
                foreach (var collision in found)
                {
                    await RecordAsync(collision, ct);
                }

                collisions.AddRange(found);
                renormalized += changes.Count - found.Count;
            }

            // Renewed well within the lease, not per batch: each renewal is a commit.
            if (time.GetElapsedTime(renewed) > Lease / 5)
            {
                if (!await RenewAsync(ct))
                {
                    logger.LogWarning("Email normalization: another instance took over the step after user {UserId}; this one stops.", after);
                    return null;
                }

                renewed = time.GetTimestamp();
            }
        }

        var report = new EmailNormalizationReport(scanned, renormalized, collisions);
        await db.DataSteps.Where(s => s.Name == Name && s.ClaimedBy == _owner)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.CompletedAt, time.UtcNow()).SetProperty(x => x.Report, Describe(report)), ct);
        if (collisions.Count > 0)
        {
            logger.LogWarning("Email normalization done: {Scanned} users scanned, {Renormalized} renormalized, {Collisions} collisions left unchanged "
                + "(audit events {Action}; report in data_steps '{Step}').", scanned, renormalized, collisions.Count, CollisionAction, Name);
        }
        else
        {
            logger.LogInformation("Email normalization done: {Scanned} users scanned, {Renormalized} renormalized, no collisions.", scanned, renormalized);
        }

        return report;
    }

    /// <summary>The operator's summary stored with the step: counts and collision ids, never an address.</summary>
    internal static string Describe(EmailNormalizationReport report)
    {
        var text = new StringBuilder()
            .Append($"{report.Scanned} users scanned, {report.Renormalized} renormalized, {report.Collisions.Count} collisions left unchanged");
        if (report.Collisions.Count > 0)
        {
            text.Append($" (audit events {CollisionAction}):");
            foreach (var c in report.Collisions.Take(ReportedIds))
            {
                text.Append($"\ntenant {c.TenantId}: user {c.UserId} is the same mailbox as user {c.OtherUserId}");
            }

            if (report.Collisions.Count > ReportedIds)
            {
                text.Append($"\n... and {report.Collisions.Count - ReportedIds} more");
            }
        }

        return text.ToString();
    }

    /// <summary>Inserts the claim, or takes over one whose instance stopped renewing it; false when not this instance's turn.</summary>
    private async Task<bool> ClaimAsync(CancellationToken ct)
    {
        var now = time.UtcNow();
        var step = await db.DataSteps.AsNoTracking().FirstOrDefaultAsync(s => s.Name == Name, ct);
        if (step is null)
        {
            db.DataSteps.Add(new DataStep { Name = Name, ClaimedBy = _owner, ClaimedAt = now });
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
            {
                // Another instance inserted it first and runs the step.
                db.ChangeTracker.Clear();
                return false;
            }
        }

        if (step.CompletedAt is not null || step.ClaimedAt > now - Lease)
        {
            return false;
        }

        logger.LogWarning("Email normalization: taking over the step from {Owner}, which stopped renewing its claim.", step.ClaimedBy);
        return await db.DataSteps
            .Where(s => s.Name == Name && s.CompletedAt == null && s.ClaimedBy == step.ClaimedBy && s.ClaimedAt == step.ClaimedAt)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ClaimedBy, _owner).SetProperty(x => x.ClaimedAt, now), ct) == 1;
    }

    private async Task<bool> RenewAsync(CancellationToken ct) =>
        await db.DataSteps.Where(s => s.Name == Name && s.ClaimedBy == _owner && s.CompletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ClaimedAt, time.UtcNow()), ct) == 1;

    /// <summary>
    /// One batch's changes: holders of the new keys are read in one query, collisions decided in memory (the key's
    /// holder, else the first row by id), and the rest written in one transaction. A unique violation there means a
    /// live user took a key meanwhile; the batch is then redone row by row, each write on its own.
    /// </summary>
    private async Task<List<EmailCollision>> ApplyAsync(List<Change> changes, CancellationToken ct)
    {
        var live = changes.Where(c => !c.Row.Deleted).ToList();
        var tenants = live.Select(c => c.Row.TenantId).Distinct().ToList();
        var keys = live.Select(c => c.Key).Distinct().ToList();
        var holders = keys.Count == 0 ? [] : await db.Users.AsNoTracking()
            .Where(u => u.DeletedAt == null && tenants.Contains(u.TenantId) && keys.Contains(u.EmailNormalized))
            .Select(u => new { u.TenantId, u.EmailNormalized, u.Id }).ToListAsync(ct);
        var taken = holders.GroupBy(h => (h.TenantId, h.EmailNormalized))
            .ToDictionary(g => g.Key, g => g.Select(h => h.Id).Min(StringComparer.Ordinal)!);

        var collisions = new List<EmailCollision>();
        var writes = new List<Change>();
        foreach (var change in changes)
        {
            if (!change.Row.Deleted && taken.TryGetValue((change.Row.TenantId, change.Key), out var holder) && holder != change.Row.Id)
            {
                collisions.Add(new EmailCollision(change.Row.TenantId, change.Row.Id, holder));
                continue;
            }

            if (!change.Row.Deleted)
            {
                taken[(change.Row.TenantId, change.Key)] = change.Row.Id;
            }

            writes.Add(change);
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            foreach (var change in writes)
            {
                await WriteAsync(change, ct);
            }

            await transaction.CommitAsync(ct);
            return collisions;
        }
        catch (Exception ex) when (IsUniqueViolation(ex))
        {
            collisions.Clear();
            foreach (var change in changes)
            {
                if (await RenormalizeAsync(change.Row, change.Key, ct) is { } collision)
                {
                    collisions.Add(collision);
                }
            }

            return collisions;
        }
    }

    // Conditional on the old key: a PATCH that changed the email meanwhile already wrote the new rule's key.
    private Task<int> WriteAsync(Change change, CancellationToken ct) =>
        db.Users.Where(u => u.Id == change.Row.Id && u.TenantId == change.Row.TenantId && u.EmailNormalized == change.Row.EmailNormalized)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.EmailNormalized, change.Key), ct);

    /// <summary>Writes the new key unless another live user of the tenant holds it; the collision otherwise.</summary>
    private async Task<EmailCollision?> RenormalizeAsync(Row row, string normalized, CancellationToken ct)
    {
        if (!row.Deleted && await HolderAsync(row, normalized, ct) is { } holder)
        {
            return new EmailCollision(row.TenantId, row.Id, holder);
        }

        try
        {
            await WriteAsync(new Change(row, normalized), ct);
            return null;
        }
        catch (Exception ex) when (IsUniqueViolation(ex))
        {
            // A live user took the key between the check and the update (created by an instance already running).
            return new EmailCollision(row.TenantId, row.Id, await HolderAsync(row, normalized, ct) ?? "unknown");
        }
    }

    private Task<string?> HolderAsync(Row row, string normalized, CancellationToken ct) =>
        db.Users.AsNoTracking()
            .Where(u => u.TenantId == row.TenantId && u.DeletedAt == null && u.EmailNormalized == normalized && u.Id != row.Id)
            .OrderBy(u => u.Id).Select(u => u.Id).FirstOrDefaultAsync(ct);

    private async Task RecordAsync(EmailCollision collision, CancellationToken ct)
    {
        logger.LogWarning("Email normalization: user {UserId} of tenant {TenantId} is the same mailbox as user {OtherUserId}; "
            + "its email_normalized was left unchanged until an administrator changes or deletes one of them.",
            collision.UserId, collision.TenantId, collision.OtherUserId);

        // A step taken over after a crash meets the same collisions again; one event per pair is enough.
        var reason = $"Same mailbox as user {collision.OtherUserId} under the IDNA/NFC email rule; email_normalized left unchanged. Change or delete one of them.";
        if (await db.AuditEvents.AnyAsync(e => e.TenantId == collision.TenantId && e.TargetId == collision.UserId
            && e.Action == CollisionAction && e.Reason == reason, ct))
        {
            return;
        }

        db.AuditEvents.Add(new AuditEvent
        {
            Id = Ids.New(),
            TenantId = collision.TenantId,
            ActorType = "SYSTEM",
            ActorId = Name,
            Action = CollisionAction,
            TargetType = "user",
            TargetId = collision.UserId,
            Reason = reason,
            CreatedAt = time.UtcNow(),
        });
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    // ExecuteUpdate throws the provider's exception itself, not a DbUpdateException around it.
    private static bool IsUniqueViolation(Exception ex) =>
        (ex is DbUpdateException update ? update.InnerException : ex) is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
            or SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 };
}
