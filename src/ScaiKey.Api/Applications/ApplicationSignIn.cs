using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Applications;

/// <summary>
/// Who may get codes and tokens from an application, and whether the user must be asked first. Every decision
/// takes the application's row, or null for the built-in first-party client (which has no row): it asks no
/// consent and needs no assignment.
/// </summary>
internal static class ApplicationSignIn
{
    /// <summary>
    /// The application row behind an OAuth client id, or null (the built-in client, or an admin client). Every
    /// password grant, refresh and authorization request reads it, so it is kept for as long as a tenant is
    /// (<see cref="TenantLookup.CacheLifetime"/>); this instance forgets it at once when the application changes.
    /// </summary>
    public static async Task<Application?> FindAsync(ScaiKeyDbContext db, IMemoryCache cache, string? clientId, CancellationToken ct)
    {
        if (clientId is null)
        {
            return null;
        }

        if (cache.TryGetValue(CacheKey(clientId), out Application? cached) && cached is not null)
        {
            return cached;
        }

        var row = await db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == clientId, ct);
        if (row is not null)
        {
            cache.Set(CacheKey(clientId), row, TenantLookup.CacheLifetime);
        }

        return row;
    }

    /// <summary>After a PATCH or delete of the application, committed.</summary>
    public static void Evict(IMemoryCache cache, string clientId) => cache.Remove(CacheKey(clientId));

    private static string CacheKey(string clientId) => "client-application:" + clientId;

    /// <summary>
    /// False when the application admits only assigned users and this user is assigned neither directly nor
    /// through a group (a group nested below an assigned group counts).
    /// </summary>
    public static async Task<bool> AdmitsAsync(ScaiKeyDbContext db, UserReads reads, Application? application, string userId, CancellationToken ct) =>
        application is not { AssignmentRequired: true }
        || await ApplicationAccess.IsAssignedAsync(db, reads, new ApplicationBinding(application.Id, application.TenantId), userId, ct);

    /// <summary>
    /// True when the user must be asked before a code is issued: the application asks for consent and the user has
    /// not yet allowed every requested scope, or the client asked again with prompt=consent.
    /// </summary>
    public static async Task<bool> NeedsConsentAsync(
        ScaiKeyDbContext db, Application? application, string userId, IEnumerable<string> scopes, bool promptConsent, CancellationToken ct)
    {
        if (application is not { ConsentRequired: true })
        {
            return false;
        }

        if (promptConsent)
        {
            return true;
        }

        var stored = await db.UserConsents.AsNoTracking()
            .Where(c => c.TenantId == application.TenantId && c.UserId == userId && c.ApplicationId == application.Id)
            .Select(c => c.ScopesJson)
            .FirstOrDefaultAsync(ct);
        return stored is null || !scopes.All(ReadScopes(stored).Contains);
    }

    /// <summary>
    /// Remembers that the user allowed these scopes, on top of what it allowed before (a consent only grows until it
    /// is revoked). The unique (user, application) index makes a concurrent first consent a retry, not a duplicate.
    /// </summary>
    public static async Task RememberConsentAsync(
        ScaiKeyDbContext db, Application application, string userId, IEnumerable<string> scopes, DateTime now, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var consent = await db.UserConsents
                .FirstOrDefaultAsync(c => c.TenantId == application.TenantId && c.UserId == userId && c.ApplicationId == application.Id, ct);
            if (consent is null)
            {
                consent = new UserConsent
                {
                    Id = Ids.New(),
                    TenantId = application.TenantId,
                    UserId = userId,
                    ApplicationId = application.Id,
                    ScopesJson = WriteScopes(scopes),
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                db.UserConsents.Add(consent);
            }
            else
            {
                consent.ScopesJson = WriteScopes(ReadScopes(consent.ScopesJson).Concat(scopes));
                consent.UpdatedAt = now;
            }

            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // Another request of the same user stored the first consent meanwhile: merge into that one.
                db.ChangeTracker.Clear();
            }
        }
    }

    public static List<string> ReadScopes(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];

    /// <summary>Sorted and without duplicates, so the stored list reads the same whatever order the requests used.</summary>
    public static string WriteScopes(IEnumerable<string> scopes) =>
        JsonSerializer.Serialize(scopes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
}
