using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Users;

/// <summary>What every write of <see cref="UserCommands"/> shares: find for write, save, conflicts, revocation, the answer.</summary>
internal sealed partial class UserCommands
{
    private async Task<Result<(T Response, int Version)>> CommitWithRevocationAsync<T>(RequestInfo request, User user, bool revoke, CancellationToken ct)
        where T : UserResponse, new()
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (revoke)
        {
            await RevokeAsync(user, ct);
        }

        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        await transaction.CommitAsync(ct);
        if (revoke)
        {
            revocations.EvictUser(user.Id);
        }

        return await RespondAsync<T>(user.TenantId, user.Id, ct);
    }

    /// <summary>
    /// Ends every session and makes access tokens issued until now worthless for this user. Inside the caller's
    /// transaction; the caller evicts the revocation cache after its commit (an eviction before it let a request in
    /// between cache "still active" again, see docs/decisions.md). SCIM's deactivation uses it too.
    /// </summary>
    internal async Task RevokeAsync(User user, CancellationToken ct)
    {
        var now = Now;
        user.TokensRevokedAt = now;
        await SignIn.SignInService.RevokeSessionsAsync(db, user.TenantId, user.Id, now, "sessions_revoked", exceptSessionId: null, ct);
    }

    /// <summary>The user as written, with the version its ETag names.</summary>
    private async Task<Result<(T Response, int Version)>> RespondAsync<T>(string tenantId, string userId, CancellationToken ct)
        where T : UserResponse, new()
    {
        var result = await reads.GetAsync<T>(tenantId, userId, UserIncludes.None, ct);
        return result is { } found ? found : UserNotFound;
    }

    /// <summary>The user to change, or why not: not found, or If-Match names another version.</summary>
    private async Task<(User User, Failure? Refusal)> FindForWriteAsync(RequestInfo request, string tenantId, string userId, CancellationToken ct, bool ifMatchChecked = false)
    {
        var user = await FindAsync(tenantId, userId, ct);
        if (user is null)
        {
            return (null!, UserNotFound);
        }

        return ifMatchChecked || request.IfMatchAllows(user.Version) ? (user, null) : (user, Failure.PreconditionFailed());
    }

    private Task<User?> FindAsync(string tenantId, string userId, CancellationToken ct) =>
        db.Users.FirstOrDefaultAsync(u => u.TenantId == tenantId && u.Id == userId && u.DeletedAt == null, ct);

    private void Touch(User user)
    {
        user.Version++;
        user.UpdatedAt = Now;
    }

    private async Task<Failure?> SaveAsync(RequestInfo request, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return request.HasIfMatch
                ? Failure.PreconditionFailed()
                : Failure.Conflict("The user was changed by another request at the same time. Read it again and retry.");
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var detail))
        {
            return UniqueConflict(detail);
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            return Failure.Conflict(DbErrors.ConcurrentDeleteDetail);
        }
    }

    private async Task<Failure?> ConflictAsync(string tenantId, string? exceptUserId, string? normalizedEmail, string? normalizedUsername, CancellationToken ct)
    {
        var users = db.Users.Where(u => u.TenantId == tenantId && u.DeletedAt == null && u.Id != exceptUserId);
        if (normalizedEmail is not null && await users.AnyAsync(u => u.EmailNormalized == normalizedEmail, ct))
        {
            return Failure.Conflict("A user with this email address already exists in this tenant.");
        }

        if (normalizedUsername is not null && await users.AnyAsync(u => u.UsernameNormalized == normalizedUsername, ct))
        {
            return Failure.Conflict("A user with this username already exists in this tenant.");
        }

        return null;
    }

    private static Failure UniqueConflict(string detail) =>
        detail.Contains("username", StringComparison.OrdinalIgnoreCase)
            ? Failure.Conflict("A user with this username already exists in this tenant.")
            : Failure.Conflict("A user with this email address already exists in this tenant.");

    public const string NotFoundDetail = "User not found.";

    private static readonly Failure UserNotFound = Failure.NotFound(NotFoundDetail);
}

/// <summary>
/// What a create produced: the new user (its envelope, the version for the ETag, its address), or for a repeated
/// Idempotency-Key the first answer again (<see cref="Replay"/> set, the rest unused).
/// </summary>
internal sealed record UserCreated<T>(ApiResponse<T>? Envelope, int Version, string Location, IdempotentReplay? Replay = null)
{
    public static UserCreated<T> Replayed(IdempotentReplay replay) => new(null, 0, replay.Location ?? string.Empty, replay);
}
