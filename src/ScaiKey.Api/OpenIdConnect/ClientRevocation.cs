using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>What deleting an OAuth client (an application or an admin client) ends besides its registration.</summary>
internal static class ClientRevocation
{
    public const string ApplicationDeletedReason = "application_deleted";

    /// <summary>
    /// Inside the deleting transaction: every token grant made through the client ends with it, so its users' access
    /// and refresh tokens stop working when the delete commits, not when they expire.
    /// </summary>
    public static Task<int> RevokeGrantsAsync(ScaiKeyDbContext db, string tenantId, string clientId, DateTime now, CancellationToken ct) =>
        db.TokenGrants.Where(g => g.TenantId == tenantId && g.ClientId == clientId && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, ApplicationDeletedReason), ct);

    /// <summary>
    /// After the commit: this instance forgets what it cached about the client and its users' grants. Before the
    /// commit, a request in between would read the old rows and cache them again for the caches' lifetime.
    /// </summary>
    public static void ForgetDeleted(IServiceProvider services, string clientId)
    {
        var cache = services.GetRequiredService<IMemoryCache>();
        services.GetRequiredService<ClientRegistrationCache>().Evict();
        services.GetRequiredService<RevocationCache>().EvictAll();
        ScaiKeyApplicationManager.Evict(cache, clientId);
        Caller.Evict(cache, PrincipalTypes.Client, clientId);
    }
}
