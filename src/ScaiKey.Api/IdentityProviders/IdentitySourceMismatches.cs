using System.ComponentModel;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.IdentityProviders;

[Description("A user whose identity_source differs from what its links to identity providers imply.")]
internal sealed record IdentitySourceMismatch(
    string UserId,
    string TenantId,
    string Email,
    IdentitySource IdentitySource,
    [property: Description("The identity_source the user's links imply; null when they point to providers of two or more types (never fixed automatically).")]
    IdentitySource? ExpectedIdentitySource,
    [property: Description("The provider of the user's oldest link.")] string IdentityProviderId,
    [property: Description("The type of the provider of the user's oldest link.")] IdentityProviderType IdentityProviderType,
    [property: Description("Every provider type the user is linked to, in alphabetical order.")] IReadOnlyList<IdentityProviderType> LinkedIdentityProviderTypes);

[Description("Identity-source mismatches as found before any fix, and the number of users fixed (0 unless fix=true).")]
internal sealed record IdentitySourceMismatchesResponse(
    IReadOnlyList<IdentitySourceMismatch> Data,
    int Fixed,
    [property: ApiOptional] MetaResponse Meta);

/// <summary>
/// Finds users whose identity_source disagrees with the identity providers they are linked to, and optionally
/// corrects them in one transaction. A user linked to providers of several types is reported but never changed.
/// </summary>
internal static class IdentitySourceMismatches
{
    public const string Description =
        "Find users with identity_source mismatches.\n\n"
        + "A mismatch occurs when:\n"
        + "- User has a federated identity to an LDAP IdP but identity_source != 'LDAP'\n"
        + "- User has a federated identity to an OIDC IdP but identity_source != 'OIDC'\n"
        + "- etc.\n\n"
        + "Use fix=true to automatically correct these mismatches.";

    public static readonly QueryParameter<bool> Fix = Query.Bool("fix", false, "If true, automatically fix the mismatches");

    private sealed record Link(
        string UserId, string TenantId, string Email, string EmailNormalized, IdentitySource IdentitySource,
        string LinkId, DateTime LinkedAt, string ProviderId, string ProviderType);

    /// <summary>
    /// Reports the mismatches among non-deleted users of <paramref name="tenantId"/> (or every non-deleted tenant) within
    /// <paramref name="partners"/> (null: no partner restriction), and fixes the fixable ones when asked: the mismatches
    /// as found before the fix, and how many users were fixed.
    /// </summary>
    public static async Task<Result<(IReadOnlyList<IdentitySourceMismatch> Found, int Fixed)>> RunAsync(
        ScaiKeyDbContext db, AuditLog audit, TimeProvider time, string? tenantId, IReadOnlySet<string>? partners, bool fix, CancellationToken ct)
    {
        if (!fix)
        {
            return (await FindAsync(db, tenantId, partners, ct), 0);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var rows = await FindAsync(db, tenantId, partners, ct);
        var expected = rows.Where(r => r.ExpectedIdentitySource is not null).ToDictionary(r => r.UserId, r => r.ExpectedIdentitySource!.Value, StringComparer.Ordinal);
        var ids = expected.Keys.ToList();
        List<User> users = ids.Count == 0 ? [] : await db.Users.Where(u => ids.Contains(u.Id) && u.DeletedAt == null).ToListAsync(ct);
        var now = time.UtcNow();
        foreach (var user in users)
        {
            user.IdentitySource = expected[user.Id];
            user.Version++;
            user.UpdatedAt = now;
            audit.Record("user.identity_source_fixed", "user", user.Id, user.TenantId, ["identity_source"]);
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Failure.Conflict("A user changed while the mismatches were being fixed; nothing was changed. Retry.");
        }

        await transaction.CommitAsync(ct);
        return (rows, users.Count);
    }

    private static async Task<List<IdentitySourceMismatch>> FindAsync(ScaiKeyDbContext db, string? tenantId, IReadOnlySet<string>? partners, CancellationToken ct)
    {
        // Users of a soft-deleted tenant are out of reach of every other route, so they are neither reported nor fixed.
        var users = db.Users.AsNoTracking().Where(u => u.DeletedAt == null && db.Tenants.Any(t => t.Id == u.TenantId && t.DeletedAt == null));
        if (tenantId is not null)
        {
            users = users.Where(u => u.TenantId == tenantId);
        }

        if (partners is not null)
        {
            users = users.Where(u => db.Tenants.Any(t => t.Id == u.TenantId && t.PartnerId != null && partners.Contains(t.PartnerId)));
        }

        // Only users with at least one link whose provider type differs from their identity_source can be in the
        // report (a conflict always has one), so the database narrows the set before links are loaded.
        users = users.Where(u => db.FederatedIdentities.Any(f => f.UserId == u.Id && db.IdentityProviders.Any(p => p.Id == f.IdentityProviderId
            && ((p.Type == "OIDC" && u.IdentitySource != IdentitySource.Oidc)
                || (p.Type == "SAML" && u.IdentitySource != IdentitySource.Saml)
                || (p.Type == "LDAP" && u.IdentitySource != IdentitySource.Ldap)))));

        var links = await (
            from u in users
            join f in db.FederatedIdentities on u.Id equals f.UserId
            join p in db.IdentityProviders on f.IdentityProviderId equals p.Id
            select new Link(u.Id, u.TenantId, u.Email, u.EmailNormalized, u.IdentitySource, f.Id, f.CreatedAt, p.Id, p.Type))
            .ToListAsync(ct);

        var rows = new List<(IdentitySourceMismatch Row, string EmailNormalized)>();
        foreach (var user in links.GroupBy(l => l.UserId, StringComparer.Ordinal))
        {
            var oldest = user.OrderBy(l => l.LinkedAt).ThenBy(l => l.LinkId, StringComparer.Ordinal).First();
            var types = user.Select(l => l.ProviderType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            IdentitySource? expected = types.Count == 1 ? ToIdentitySource(types[0]) : null;
            if (expected == oldest.IdentitySource)
            {
                continue;
            }

            rows.Add((new IdentitySourceMismatch(oldest.UserId, oldest.TenantId, oldest.Email, oldest.IdentitySource, expected,
                oldest.ProviderId, IdentityProviderEndpoints.ParseType(oldest.ProviderType),
                types.Select(IdentityProviderEndpoints.ParseType).ToList()), oldest.EmailNormalized));
        }

        return rows
            .OrderBy(r => r.Row.TenantId, StringComparer.Ordinal)
            .ThenBy(r => r.EmailNormalized, StringComparer.Ordinal)
            .ThenBy(r => r.Row.UserId, StringComparer.Ordinal)
            .Select(r => r.Row)
            .ToList();
    }

    private static IdentitySource ToIdentitySource(string providerType) => providerType switch
    {
        "OIDC" => IdentitySource.Oidc,
        "SAML" => IdentitySource.Saml,
        "LDAP" => IdentitySource.Ldap,
        _ => throw new InvalidOperationException("Unknown identity provider type " + providerType),
    };
}
