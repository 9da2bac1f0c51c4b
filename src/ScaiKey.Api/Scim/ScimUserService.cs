using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Api.Security;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Scim;

/// <summary>
/// SCIM Users on ScaiKey's directory. Writes go through the same rules as the Users API: FieldRules for every field,
/// the normalised email and username for uniqueness, UserInput.NewUser for the row, PasswordChanges for the policy, hash and store,
/// UserCommands' revocation for deactivation and its delete for DELETE. Every change is audited with the token as actor.
/// </summary>
internal sealed class ScimUserService(
    ScaiKeyDbContext db,
    AuditLog audit,
    UserCommands commands,
    AccountEmails emails,
    Users.PasswordChanges passwords,
    OpenIdConnect.RevocationCache revocations,
    IOptions<ScimOptions> options,
    TimeProvider time) : IScimResources
{
    public async Task<ScimOutcome> GetAsync(ScimRequest request, string id, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.TenantId == tenantId && u.Id == id && u.DeletedAt == null, ct);
        if (user is null)
        {
            return UserNotFound();
        }

        var resource = ScimUserMapping.Render(user, await GroupsAsync(tenantId, [user.Id], ct), request.BaseUrl);
        return new ScimOutcome(200, ScimLists.Project(resource, attributes, excluded, user: true), ScimUserMapping.Version(user), null);
    }

    public async Task<ScimOutcome> ListAsync(ScimRequest request, ScimListRequest list, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var query = db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null);
        if (!ScimListQuery.TryNarrow(db, query, list, ScimUserQuery.TryTranslate, ScimUserQuery.TryOrder, out query, out var ordered, out var error))
        {
            return ScimOutcome.Fail(error!);
        }

        var total = await query.CountAsync(ct);
        var count = Math.Min(list.Count, options.Value.MaxResults);
        var page = count == 0 ? [] : await ordered.Skip(list.StartIndex - 1).Take(count).ToListAsync(ct);
        var groups = NeedsGroups(list.Attributes, list.ExcludedAttributes) && page.Count > 0
            ? await GroupsAsync(tenantId, page.Select(u => u.Id).ToList(), ct)
            : [];
        var byUser = groups.ToLookup(g => g.UserId);
        var resources = new JsonArray();
        foreach (var user in page)
        {
            resources.Add(ScimLists.Project(ScimUserMapping.Render(user, byUser[user.Id], request.BaseUrl), list.Attributes, list.ExcludedAttributes, user: true));
        }

        return new ScimOutcome(200, ScimLists.Response(total, list.StartIndex, resources), null, null);
    }

    public async Task<ScimOutcome> CreateAsync(ScimRequest request, JsonObject body, CancellationToken ct)
    {
        var fields = ScimUserMapping.Read(body, out var error);
        if (fields is null)
        {
            return ScimOutcome.Fail(error!);
        }

        var tenant = request.Tenant;
        var custom = ScimUserMapping.MergeCustom(null, fields.Custom);
        if (TooLarge(custom) is { } tooLarge)
        {
            return tooLarge;
        }

        if (fields.Password is not null && PasswordRefusal(fields.Password, fields.Email, tenant) is { } refused)
        {
            return refused;
        }

        var normalizedEmail = EmailAddresses.Normalize(fields.Email);
        var normalizedUsername = fields.UserName.ToLowerInvariant();
        if (await ConflictAsync(tenant.Id, null, normalizedEmail, normalizedUsername, ct) is { } conflict)
        {
            return conflict;
        }

        var hash = fields.Password is null ? null : await passwords.HashAsync(fields.Password, ct);
        var now = time.UtcNow();
        var input = new UserCreate(fields.Email, fields.UserName, fields.GivenName, fields.FamilyName, fields.DisplayName, fields.Phone,
            fields.Locale ?? "en", fields.Timezone ?? "UTC", fields.Password, null, [], null, false, false);
        var user = UserInput.NewUser(tenant, input, hash, now);

        // The directory vouches for the user and an admin authorised the token: no approval step or invitation.
        user.IdentitySource = IdentitySource.Scim;
        user.ExternalId = fields.ExternalId;
        user.Status = fields.Active == false ? UserStatus.Disabled : UserStatus.Active;
        user.CustomAttributesJson = custom;
        db.Users.Add(user);
        audit.Record("user.created", "user", user.Id, tenant.Id, CreatedFields(fields));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var detail))
        {
            db.ChangeTracker.Clear();
            return UniqueConflict(detail);
        }

        return new ScimOutcome(201, ScimUserMapping.Render(user, [], request.BaseUrl), ScimUserMapping.Version(user), null,
            $"{request.BaseUrl}/Users/{user.Id}");
    }

    public async Task<ScimOutcome> ReplaceAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct)
    {
        var (user, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var fields = ScimUserMapping.Read(body, out var error);
        return fields is null ? ScimOutcome.Fail(error!) : await ApplyAsync(request, user!, fields, ct);
    }

    public async Task<ScimOutcome> PatchAsync(ScimRequest request, string id, JsonObject body, string? ifMatch, CancellationToken ct)
    {
        if (!ScimPatch.TryParse(body, out var operations, out var parseError))
        {
            return ScimOutcome.Fail(parseError);
        }

        var (user, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        // groups is read-only and not rendered here: a PATCH cannot change it, and reading it would cost a query.
        var current = ScimUserMapping.Render(user!, [], request.BaseUrl);
        if (!ScimPatch.TryApply(current, ScimPatchQuirks.CoerceBooleans(operations), ScimSchemas.UserType, out var patched, out var applyError))
        {
            return ScimOutcome.Fail(applyError);
        }

        var fields = ScimUserMapping.Read(patched, out var error);
        return fields is null ? ScimOutcome.Fail(error!) : await ApplyAsync(request, user!, fields, ct, patch: true);
    }

    public async Task<ScimOutcome> DeleteAsync(ScimRequest request, string id, string? ifMatch, CancellationToken ct)
    {
        var (user, refusal) = await FindForWriteAsync(request, id, ifMatch, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        // Exactly the Users API's delete (soft delete, sessions, links, assignments, roles, memberships end).
        // SCIM's own error format, not the Users API's problem+json.
        var failure = await commands.DeleteAsync(request.Request, request.Tenant.Id, user!.Id, null, ct, ifMatchChecked: true);
        return failure?.Kind switch
        {
            null => ScimOutcome.NoContent,
            FailureKind.NotFound => UserNotFound(),
            FailureKind.PreconditionFailed => ScimOutcome.PreconditionFailed(),
            FailureKind.Conflict => ScimOutcome.Fail(new ScimError(StatusCodes.Status409Conflict, null,
                "The user cannot be deleted now (it was changed at the same time, or holds the last PLATFORM_ADMIN assignment).")),
            FailureKind.Forbidden => ScimOutcome.Fail(new ScimError(StatusCodes.Status403Forbidden, null, "The user could not be deleted.")),
            _ => ScimOutcome.Fail(new ScimError(StatusCodes.Status422UnprocessableEntity, null, "The user could not be deleted.")),
        };
    }

    /// <summary>Stores a whole resource's fields on the user (PUT, and PATCH after its operations were applied).</summary>
    private async Task<ScimOutcome> ApplyAsync(ScimRequest request, User user, ScimUserFields fields, CancellationToken ct, bool patch = false)
    {
        var tenant = request.Tenant;
        var changed = new List<string>();
        void Set<T>(string field, T current, T value, Action<T> set)
        {
            if (!EqualityComparer<T>.Default.Equals(current, value))
            {
                set(value);
                changed.Add(field);
            }
        }

        var previousEmail = user.EmailNormalized;
        Set("email", user.Email, fields.Email, v => { user.Email = v; user.EmailNormalized = EmailAddresses.Normalize(v); });
        Set("username", user.Username, fields.UserName, v => { user.Username = v; user.UsernameNormalized = v?.ToLowerInvariant(); });
        Set("external_id", user.ExternalId, fields.ExternalId, v => user.ExternalId = v);
        Set("first_name", user.FirstName, fields.GivenName, v => user.FirstName = v);
        Set("last_name", user.LastName, fields.FamilyName, v => user.LastName = v);
        Set("display_name", user.DisplayName, fields.DisplayName, v => user.DisplayName = v);
        Set("phone", user.Phone, fields.Phone, v => user.Phone = v);
        Set("locale", user.Locale, fields.Locale ?? user.Locale, v => user.Locale = v);
        Set("timezone", user.Timezone, fields.Timezone ?? user.Timezone, v => user.Timezone = v);
        var custom = ScimUserMapping.MergeCustom(user.CustomAttributesJson, fields.Custom);
        if (TooLarge(custom) is { } tooLarge)
        {
            return tooLarge;
        }

        Set("custom_attributes", user.CustomAttributesJson, custom, v => user.CustomAttributesJson = v);
        if ((changed.Contains("email") || changed.Contains("username"))
            && await ConflictAsync(tenant.Id, user.Id, changed.Contains("email") ? user.EmailNormalized : null,
                changed.Contains("username") ? user.UsernameNormalized : null, ct) is { } conflict)
        {
            return conflict;
        }

        // A PATCH renders the current state and applies its operations to it, so a password it did not send is absent
        // (write-only, never rendered) and means "unchanged"; a PUT without one keeps it as well.
        var revoke = false;
        string? hash = null;
        if (fields.Password is not null)
        {
            // As for an admin's reset: a user who signs in through a directory or an identity provider gets a local
            // password only where the tenant's federation_policy allows one (never for LDAP users).
            if (!tenant.Settings.AllowsLocalPassword(user.IdentitySource))
            {
                return ScimOutcome.Fail(ScimError.InvalidValue(
                    $"password: this user signs in through its identity source ({user.IdentitySource.ToString().ToUpperInvariant()}); "
                    + "the tenant's federation_policy.allow_local_passwords does not allow a local password."));
            }

            if (PasswordRefusal(fields.Password, user.Email, tenant) is { } refused)
            {
                return refused;
            }

            hash = await passwords.HashAsync(fields.Password, ct);
            await passwords.StoreAsync(user, hash, Users.PasswordRevocation.None, ct);
            changed.Add("password");
            revoke = true;
        }

        var statusChanged = false;
        if (fields.Active == false && user.Status != UserStatus.Disabled)
        {
            user.Status = UserStatus.Disabled;
            user.StatusReason = "Deactivated by SCIM provisioning";
            statusChanged = revoke = true;
        }
        else if (fields.Active == true && user.Status == UserStatus.Disabled)
        {
            user.Status = UserStatus.Active;
            user.StatusReason = null;
            statusChanged = true;
        }

        if (changed.Count == 0 && !statusChanged)
        {
            return new ScimOutcome(200, await RenderAsync(request, user, ct), ScimUserMapping.Version(user), null);
        }

        user.Version++;
        user.UpdatedAt = time.UtcNow();
        user.SearchText = UserInput.SearchText(user);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (changed.Contains("email") && previousEmail != user.EmailNormalized)
        {
            // A reset or invitation link in the old mailbox must not act on the new address (as the Users API does).
            user.EmailVerified = false;
            await emails.VoidAsync(tenant.Id, user.Id, [AccountEmails.Invitation, AccountEmails.PasswordReset], ct);
        }

        if (revoke)
        {
            await commands.RevokeAsync(user, ct);
        }

        if (changed.Count > 0)
        {
            audit.Record("user.updated", "user", user.Id, tenant.Id, changed, patch ? "scim patch" : "scim replace");
        }

        if (statusChanged)
        {
            audit.Record("user.status_changed", "user", user.Id, tenant.Id, revoke ? ["status", "sessions"] : ["status"], user.StatusReason);
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return ScimOutcome.Fail(new ScimError(409, null, "The user was changed by another request at the same time. Read it again and retry."));
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var detail))
        {
            db.ChangeTracker.Clear();
            return UniqueConflict(detail);
        }

        await transaction.CommitAsync(ct);
        if (revoke)
        {
            revocations.EvictUser(user.Id);
        }

        return new ScimOutcome(200, await RenderAsync(request, user, ct), ScimUserMapping.Version(user), null);
    }

    private async Task<JsonObject> RenderAsync(ScimRequest request, User user, CancellationToken ct) =>
        ScimUserMapping.Render(user, await GroupsAsync(request.Tenant.Id, [user.Id], ct), request.BaseUrl);

    /// <summary>
    /// The user to change, or the answer instead: 404 (other tenants' users too), 412 on a stale If-Match, 403 for a
    /// user holding roles beyond its tenant (a platform or partner admin): a tenant's provisioning token must not be
    /// able to disable, rename or delete the people who administer the platform.
    /// </summary>
    private async Task<(User? User, ScimOutcome? Refusal)> FindForWriteAsync(ScimRequest request, string id, string? ifMatch, CancellationToken ct)
    {
        var tenantId = request.Tenant.Id;
        var user = await db.Users.FirstOrDefaultAsync(u => u.TenantId == tenantId && u.Id == id && u.DeletedAt == null, ct);
        if (user is null)
        {
            return (null, UserNotFound());
        }

        if (!ScimResults.IfMatchAllows(ifMatch, ScimUserMapping.Version(user)))
        {
            return (null, ScimOutcome.PreconditionFailed());
        }

        // Any role, this tenant's included: a token outlives the admin who made it, and changing another admin's
        // password or email (then "forgot password") would hand over that admin's rights. Admins are managed in
        // ScaiKey, not by provisioning (docs/decisions.md, SCIM service).
        if (await db.RoleAssignments.AnyAsync(r => r.PrincipalType == PrincipalTypes.User && r.PrincipalId == user.Id, ct))
        {
            return (null, ScimOutcome.Fail(new ScimError(403, null,
                "This user holds administrative roles; a provisioning token may not change it. Manage it in ScaiKey.")));
        }

        return (user, null);
    }

    /// <summary>Direct group memberships of users, for the read-only groups attribute.</summary>
    private async Task<List<ScimGroupRef>> GroupsAsync(string tenantId, List<string> userIds, CancellationToken ct) =>
        await (from m in db.GroupMembers.AsNoTracking()
               join g in db.Groups.AsNoTracking() on m.GroupId equals g.Id
               where m.TenantId == tenantId && g.TenantId == tenantId && userIds.Contains(m.UserId)
               orderby g.Name
               select new ScimGroupRef(m.UserId, g.Id, g.Name)).ToListAsync(ct);

    private static bool NeedsGroups(IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded) =>
        attributes is { Count: > 0 }
            ? attributes.Any(a => a.EndsWith("groups", StringComparison.OrdinalIgnoreCase) || a.Contains("groups.", StringComparison.OrdinalIgnoreCase))
            : excluded?.Any(a => string.Equals(a, "groups", StringComparison.OrdinalIgnoreCase)) != true;

    private async Task<ScimOutcome?> ConflictAsync(string tenantId, string? exceptUserId, string? normalizedEmail, string? normalizedUsername, CancellationToken ct)
    {
        // Two lookups, each answered by its unique index: one query OR-ing both made SQLite scan the tenant's users,
        // so every create got slower as the tenant grew (bench/scim.sh: SCIM create at 0.47 of the API's).
        var live = db.Users.AsNoTracking().Where(u => u.TenantId == tenantId && u.DeletedAt == null && u.Id != exceptUserId);
        if (normalizedEmail is not null && await live.AnyAsync(u => u.EmailNormalized == normalizedEmail, ct))
        {
            return ScimOutcome.Uniqueness("A user with this email address already exists in this tenant.");
        }

        return normalizedUsername is not null && await live.AnyAsync(u => u.UsernameNormalized == normalizedUsername, ct)
            ? ScimOutcome.Uniqueness("A user with this userName already exists in this tenant.")
            : null;
    }

    private static ScimOutcome UniqueConflict(string detail) =>
        ScimOutcome.Uniqueness(detail.Contains("username", StringComparison.OrdinalIgnoreCase)
            ? "A user with this userName already exists in this tenant."
            : "A user with this email address already exists in this tenant.");

    private static ScimOutcome? PasswordRefusal(string password, string email, Tenancy.TenantContext tenant)
    {
        var violations = Users.PasswordChanges.Violations(tenant, email, password);
        return violations.Count == 0 ? null : ScimOutcome.Fail(ScimError.InvalidValue("password: " + string.Join(" ", violations)));
    }

    private static ScimOutcome? TooLarge(string? custom) =>
        custom is not null && System.Text.Encoding.UTF8.GetByteCount(custom) > UserInput.MaxCustomAttributesBytes
            ? ScimOutcome.Fail(ScimError.InvalidValue($"The attributes ScaiKey keeps as sent (extensions and unmodelled attributes) exceed {UserInput.MaxCustomAttributesBytes} bytes."))
            : null;

    public static ScimOutcome UserNotFound() => ScimOutcome.NotFound("User not found.");

    private static IEnumerable<string> CreatedFields(ScimUserFields f)
    {
        yield return "email";
        yield return "username";
        foreach (var (name, value) in new (string, object?)[]
        {
            ("external_id", f.ExternalId), ("first_name", f.GivenName), ("last_name", f.FamilyName), ("display_name", f.DisplayName),
            ("phone", f.Phone), ("locale", f.Locale), ("timezone", f.Timezone), ("password", f.Password),
            ("custom_attributes", f.Custom.Count > 0 ? f.Custom : null), ("status", f.Active == false ? "DISABLED" : null),
        })
        {
            if (value is not null)
            {
                yield return name;
            }
        }
    }
}
