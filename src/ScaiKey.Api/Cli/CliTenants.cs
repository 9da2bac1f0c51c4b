using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Cli;

internal static class CliTenants
{
    /// <summary>A live tenant by id, or else by slug.</summary>
    public static async Task<TenantContext> FindAsync(ScaiKeyDbContext db, string idOrSlug, CancellationToken ct) =>
        await TenantLookup.FindAsync(db, idOrSlug, ct)
        ?? await db.Tenants.AsNoTracking()
            .Where(t => t.Slug == idOrSlug && t.DeletedAt == null)
            .Select(t => new TenantContext(t.Id, t.PartnerId, t.Slug, t.Name, t.SettingsJson))
            .FirstOrDefaultAsync(ct)
        ?? throw new CliUsageException($"no tenant with id or slug '{idOrSlug}'.");
}

/// <summary>The users table row the API's create writes (UserCommands.CreateAsync), for the bulk paths.</summary>
internal static class CliUsers
{
    public static User NewUser(TenantContext tenant, UserCreate input, string? passwordHash, DateTime now)
    {
        var user = new User
        {
            Id = Ids.New(),
            TenantId = tenant.Id,
            Email = input.Email,
            EmailNormalized = input.Email.ToLowerInvariant(),
            Username = input.Username,
            UsernameNormalized = input.Username?.ToLowerInvariant(),
            FirstName = input.FirstName,
            LastName = input.LastName,
            DisplayName = input.DisplayName,
            Phone = input.Phone,
            Locale = input.Locale,
            Timezone = input.Timezone,
            OuId = input.OuId,
            IdentitySource = IdentitySource.Local,
            Status = tenant.Settings.RequireApproval ? UserStatus.PendingApproval
                : passwordHash is not null ? UserStatus.Active
                : UserStatus.PendingEmailVerification,
            CustomAttributesJson = UserInput.SerializeAttributes(input.CustomAttributes),
            PasswordHash = passwordHash,
            PasswordChangedAt = passwordHash is null ? null : now,
            RequirePasswordChange = input.RequirePasswordChange,
            SearchText = string.Empty,
            CreatedAt = now,
            Version = 1,
        };
        user.SearchText = UserInput.SearchText(user);
        return user;
    }
}
