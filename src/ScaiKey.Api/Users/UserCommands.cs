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
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Users;

/// <summary>
/// Write side of the directory, shared by the tenant routes and the cross-tenant admin routes. Every write
/// re-checks the tenant in its query, honours If-Match, and commits its audit event in the same transaction.
/// </summary>
internal sealed partial class UserCommands(
    ScaiKeyDbContext db,
    UserReads reads,
    AuditLog audit,
    EmailOutbox outbox,
    PasswordChanges passwords,
    Idempotency idempotency,
    TimeProvider time,
    AccountEmails emails,
    OpenIdConnect.RevocationCache revocations,
    Microsoft.Extensions.Caching.Memory.IMemoryCache memory)
{
    private DateTime Now => time.UtcNow();

    public async Task<Result<UserCreated<T>>> CreateAsync<T>(RequestInfo request, TenantContext tenant, UserCreate input, Idempotency.Request? key, CancellationToken ct)
        where T : UserResponse, new()
    {
        if (key is not null && await idempotency.ReplayAsync(key, ct) is { } replay)
        {
            return Replayed<T>(replay);
        }

        var errors = new ValidationErrors();
        if (input.OuId is not null && !await db.OrganizationalUnits.AnyAsync(o => o.TenantId == tenant.Id && o.Id == input.OuId, ct))
        {
            errors.ValueError(["body", "ou_id"], "organizational unit not found in this tenant");
        }

        if (input.GroupIds.Count > 0)
        {
            var ids = input.GroupIds;
            var found = await db.Groups.Where(g => g.TenantId == tenant.Id && ids.Contains(g.Id)).Select(g => g.Id).ToListAsync(ct);
            for (var i = 0; i < ids.Count; i++)
            {
                if (!found.Contains(ids[i]))
                {
                    errors.ValueError(["body", "group_ids", i], "group not found in this tenant");
                }
            }
        }

        if (input.Password is not null)
        {
            foreach (var violation in PasswordChanges.Violations(tenant, input.Email, input.Password))
            {
                errors.ValueError(["body", "password"], violation);
            }
        }

        if (errors.Any)
        {
            return Failure.Invalid(errors);
        }

        var normalizedEmail = EmailAddresses.Normalize(input.Email);
        var normalizedUsername = input.Username?.ToLowerInvariant();
        if (await ConflictAsync(tenant.Id, null, normalizedEmail, normalizedUsername, ct) is { } conflict)
        {
            return key is not null && await idempotency.ReplayAsync(key, ct) is { } again ? Replayed<T>(again) : conflict;
        }

        var passwordHash = input.Password is null ? null : await passwords.HashAsync(input.Password, ct);
        var now = Now;
        var user = UserInput.NewUser(tenant, input, passwordHash, now);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Users.Add(user);
        foreach (var groupId in input.GroupIds)
        {
            db.GroupMembers.Add(new GroupMember { GroupId = groupId, UserId = user.Id, TenantId = tenant.Id, CreatedAt = now });
        }

        if (input.SendWelcomeEmail)
        {
            // Without a password the invitation verifies the address when it is accepted; with one, a verification link.
            if (input.Password is null)
            {
                emails.Invite(request, tenant, user);
            }
            else
            {
                emails.SendEmailVerification(request, tenant, user);
            }
        }

        audit.Record("user.created", "user", user.Id, tenant.Id, CreatedFields(input));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var detail))
        {
            await transaction.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return key is not null && await idempotency.ReplayAsync(key, ct) is { } again ? Replayed<T>(again) : UniqueConflict(detail);
        }
        catch (DbUpdateException ex) when (DbErrors.IsForeignKeyViolation(ex))
        {
            await transaction.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return Failure.Conflict(DbErrors.ConcurrentDeleteDetail);
        }

        var (response, version) = (await reads.GetAsync<T>(tenant.Id, user.Id, UserIncludes.None, ct))!.Value;
        var envelope = Envelope.Of(request, response);
        var location = $"/api/v1/tenants/{tenant.Id}/users/{user.Id}";
        if (key is not null)
        {
            idempotency.Remember(key, StatusCodes.Status201Created, JsonSerializer.Serialize(envelope, ApiJson.Options), ETags.For(version), location);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
            {
                await transaction.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                return await idempotency.ReplayAsync(key, ct) is { } again
                    ? Replayed<T>(again)
                    : Failure.Conflict("A request with this Idempotency-Key is in progress; retry it.");
            }
        }

        await transaction.CommitAsync(ct);
        return new UserCreated<T>(envelope, version, location);
    }

    private static Result<UserCreated<T>> Replayed<T>(Result<IdempotentReplay> replay) =>
        replay.Succeeded ? UserCreated<T>.Replayed(replay.Value) : replay.Failure;

    public async Task<Result<(T Response, int Version)>> UpdateAsync<T>(RequestInfo request, TenantContext tenant, string userId, UserInput.UserPatch patch, CancellationToken ct)
        where T : UserResponse, new()
    {
        var tenantId = tenant.Id;
        var (user, refusal) = await FindForWriteAsync(request, tenantId, userId, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new ValidationErrors();
        var changed = new List<string>();
        void Apply(string field, Optional<string> value, string? current, Action<string?> set, bool nullable = true)
        {
            if (!value.IsSet || (value.Value is null && !nullable) || value.Value == current)
            {
                return;
            }

            set(value.Value);
            changed.Add(field);
        }

        var previousEmail = user.Email;
        Apply("email", patch.Email, user.Email, v => { user.Email = v!; user.EmailNormalized = EmailAddresses.Normalize(v!); }, nullable: false);
        Apply("username", patch.Username, user.Username, v => { user.Username = v; user.UsernameNormalized = v?.ToLowerInvariant(); });
        Apply("first_name", patch.FirstName, user.FirstName, v => user.FirstName = v);
        Apply("last_name", patch.LastName, user.LastName, v => user.LastName = v);
        Apply("display_name", patch.DisplayName, user.DisplayName, v => user.DisplayName = v);
        Apply("phone", patch.Phone, user.Phone, v => user.Phone = v);
        Apply("locale", patch.Locale, user.Locale, v => user.Locale = v!, nullable: false);
        Apply("timezone", patch.Timezone, user.Timezone, v => user.Timezone = v!, nullable: false);
        if (patch.OuId is { IsSet: true, Value: { } ouId } && ouId != user.OuId
            && !await db.OrganizationalUnits.AnyAsync(o => o.TenantId == tenantId && o.Id == ouId, ct))
        {
            errors.ValueError(["body", "ou_id"], "organizational unit not found in this tenant");
        }
        else
        {
            Apply("ou_id", patch.OuId, user.OuId, v => user.OuId = v);
        }

        if (patch.CustomAttributes.IsSet)
        {
            var json = UserInput.SerializeAttributes(patch.CustomAttributes.Value);
            if (json != user.CustomAttributesJson)
            {
                user.CustomAttributesJson = json;
                changed.Add("custom_attributes");
            }
        }

        if (errors.Any)
        {
            return Failure.Invalid(errors);
        }

        if (changed.Count > 0)
        {
            if ((changed.Contains("email") || changed.Contains("username"))
                && await ConflictAsync(tenantId, user.Id, changed.Contains("email") ? user.EmailNormalized : null,
                    changed.Contains("username") ? user.UsernameNormalized : null, ct) is { } conflict)
            {
                return conflict;
            }

            Touch(user);
            user.SearchText = UserInput.SearchText(user);
            await using var transaction = changed.Contains("email") ? await db.Database.BeginTransactionAsync(ct) : null;
            if (transaction is not null)
            {
                await EmailChangedAsync(request, tenant, user, previousEmail, changed, ct);
            }

            audit.Record("user.updated", "user", user.Id, tenantId, changed);
            if (await SaveAsync(request, ct) is { } failure)
            {
                return failure;
            }

            if (transaction is not null)
            {
                await transaction.CommitAsync(ct);
            }
        }

        return await RespondAsync<T>(tenantId, userId, ct);
    }

    public async Task<Result<(T Response, int Version)>> ChangeStatusAsync<T>(RequestInfo request, string tenantId, string userId, UserStatusUpdate input, CancellationToken ct)
        where T : UserResponse, new()
    {
        var (user, refusal) = await FindForWriteAsync(request, tenantId, userId, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var changed = new List<string> { "status" };
        var from = user.Status;
        switch (input.Status)
        {
            case UserStatus.Active when from == UserStatus.PendingEmailVerification:
                user.EmailVerified = true;
                changed.Add("email_verified");
                break;
            case UserStatus.Active when from == UserStatus.Locked:
                user.FailedLoginAttempts = 0;
                user.LockedAt = null;
                changed.Add("failed_login_attempts");
                break;
            case UserStatus.Locked when from != UserStatus.Locked:
                user.LockedAt = Now;
                break;
        }

        user.Status = input.Status;
        user.StatusReason = input.Reason;
        var revoke = input.TerminateSessions || input.Status is UserStatus.Disabled or UserStatus.Locked;
        if (revoke)
        {
            changed.Add("sessions");
        }

        Touch(user);
        audit.Record("user.status_changed", "user", user.Id, tenantId, changed, input.Reason);
        return await CommitWithRevocationAsync<T>(request, user, revoke, ct);
    }

    /// <param name="ifMatchChecked">The caller compared the version itself (SCIM's weak ETags, a Bulk operation's version).</param>
    public async Task<Failure?> DeleteAsync(RequestInfo request, string tenantId, string userId, string? confirmEmail, CancellationToken ct, bool ifMatchChecked = false)
    {
        var (user, refusal) = await FindForWriteAsync(request, tenantId, userId, ct, ifMatchChecked);
        if (refusal is not null)
        {
            return refusal;
        }

        if (confirmEmail is not null && !string.Equals(confirmEmail.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
        {
            return Failure.Invalid(["query", "confirm_email"], "confirm_email does not match the user's email address");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Its group memberships go with the soft delete itself (the LiveMemberships trigger, for every writer).
        user.DeletedAt = Now;
        Touch(user);
        await RevokeAsync(user, ct);
        await db.UserActionTokens.Where(t => t.TenantId == tenantId && t.UserId == user.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, Now), ct);
        audit.Record("user.deleted", "user", user.Id, tenantId);
        if (await SaveAsync(request, ct) is { } failure)
        {
            return failure;
        }

        // A deleted user keeps no links, assignments or roles: its accounts at identity providers become free to
        // link to another user, and its application access and admin rights end with it. This runs after the
        // user row was written (and so is locked until commit): a link made concurrently either committed before,
        // and is removed here, or waits for this commit and then finds the user deleted.
        await db.FederatedIdentities.Where(f => f.TenantId == tenantId && f.UserId == user.Id).ExecuteDeleteAsync(ct);
        await db.ApplicationAssignments.Where(a => a.TenantId == tenantId && a.UserId == user.Id).ExecuteDeleteAsync(ct);
        var platformGrants = await db.RoleAssignments
            .Where(r => r.PrincipalType == PrincipalTypes.User && r.PrincipalId == user.Id && r.Role == Roles.PlatformAdmin)
            .Select(r => r.Id).ToListAsync(ct);
        if (platformGrants.Count > 0 && await Access.RoleAssignmentEndpoints.LastPlatformAdminAsync(db, platformGrants, ct))
        {
            return Failure.Conflict("This user holds the last PLATFORM_ADMIN assignment; grant the role to someone else first.");
        }

        await db.RoleAssignments.Where(r => r.PrincipalType == PrincipalTypes.User && r.PrincipalId == user.Id).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        revocations.EvictUser(user.Id);

        // Its roles end now on this instance, not when the cached grants expire.
        Caller.Evict(memory, PrincipalTypes.User, user.Id);
        return null;
    }

    private static IEnumerable<string> CreatedFields(UserCreate input)
    {
        yield return "email";
        foreach (var (name, value) in new (string, object?)[]
        {
            ("username", input.Username), ("first_name", input.FirstName), ("last_name", input.LastName),
            ("display_name", input.DisplayName), ("phone", input.Phone), ("ou_id", input.OuId),
            ("password", input.Password), ("custom_attributes", input.CustomAttributes),
        })
        {
            if (value is not null)
            {
                yield return name;
            }
        }

        if (input.GroupIds.Count > 0)
        {
            yield return "group_ids";
        }
    }
}
