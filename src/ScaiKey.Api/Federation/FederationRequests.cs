using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation;

/// <summary>
/// Federated sign-ins in flight (<see cref="FederationRequest"/>): the browser carries only a random id; what the
/// flow needs is sealed under the key ring, bound to that id and kind, and the request is used at most once.
/// </summary>
internal sealed class FederationRequests(ScaiKeyDbContext db, KeyRing keyRing, TimeProvider time, IOptions<FederationOptions> options)
{
    // The id is what the browser carries (OIDC state, SAML RelayState): unguessable, within the 36-character id column.
    public static string NewId() => SecretGenerator.Token(24);

    /// <summary>Stores a new request of <paramref name="kind"/> holding <paramref name="data"/> (sealed); returns its id.</summary>
    public async Task<string> CreateAsync<T>(string kind, string tenantId, string providerId, T data, CancellationToken ct)
    {
        var now = time.UtcNow();
        var id = NewId();
        db.FederationRequests.Add(new FederationRequest
        {
            Id = id,
            TenantId = tenantId,
            IdentityProviderId = providerId,
            Kind = kind,
            SealedData = keyRing.Seal(JsonSerializer.SerializeToUtf8Bytes(data, ApiJson.Options), Context(id, kind)),
            CreatedAt = now,
            ExpiresAt = now.AddSeconds(options.Value.RequestLifetimeSeconds),
        });

        // Expired requests are swept as new ones are made, so the table holds only the flows in progress.
        await db.FederationRequests.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);
        return id;
    }

    /// <summary>A live (unused, unexpired) request of <paramref name="kind"/> with its data, without using it up.</summary>
    public async Task<(FederationRequest Request, T Data)?> FindAsync<T>(string id, string kind, CancellationToken ct)
    {
        if (id.Length is 0 or > 36)
        {
            return null;
        }

        var now = time.UtcNow();
        var request = await db.FederationRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.Id == id && r.Kind == kind && r.ConsumedAt == null && r.ExpiresAt > now, ct);
        if (request is null)
        {
            return null;
        }

        var data = JsonSerializer.Deserialize<T>(keyRing.Open(request.SealedData, Context(id, kind)), ApiJson.Options);
        return data is null ? null : (request, data);
    }

    /// <summary>Whether a request with this id was ever made (and is now used or expired): a replay rather than a made-up id.</summary>
    public Task<bool> KnownAsync(string id, CancellationToken ct) =>
        id.Length is 0 or > 36 ? Task.FromResult(false) : db.FederationRequests.AnyAsync(r => r.Id == id, ct);

    /// <summary>Uses the request up; false when another request (a replayed callback) used it first or it expired.</summary>
    public async Task<bool> ConsumeAsync(string id, CancellationToken ct)
    {
        var now = time.UtcNow();
        return await db.FederationRequests.Where(r => r.Id == id && r.ConsumedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConsumedAt, now), ct) == 1;
    }

    // Sealed data of one request cannot be pasted into another, or read as another kind.
    private static string Context(string id, string kind) => $"scaikey:federation-request:{kind}:{id}";
}

/// <summary>
/// Binds a federated sign-in to the browser that started it: a random value in an HttpOnly cookie, whose hash the
/// request holds. A callback URL (or a link-confirmation page) handed to someone else's browser finds no matching
/// cookie there, so nobody can be signed in to the attacker's upstream account, or link it, by following a link.
/// </summary>
internal static class FederationBinding
{
    public const string CookieName = "scaikey_federation";

    /// <summary>The browser's binding (made and set on first use); returns the hash a request stores.</summary>
    public static string Bind(HttpContext http, int lifetimeSeconds)
    {
        var value = http.Request.Cookies[CookieName];
        if (value is not { Length: >= 32 and <= 64 })
        {
            value = SecretGenerator.Token(32);
        }

        // Lax: the provider's redirect back to the callback is a top-level GET, which carries it.
        http.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            Path = http.Request.PathBase + "/",
            MaxAge = TimeSpan.FromSeconds(lifetimeSeconds),
        });
        return Hash(value);
    }

    /// <summary>Whether this browser holds the binding whose hash the request stored.</summary>
    public static bool Matches(HttpContext http, string bindingHash) =>
        http.Request.Cookies[CookieName] is { Length: >= 32 and <= 64 } value
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(value)), Encoding.ASCII.GetBytes(bindingHash));

    private static string Hash(string value) => SecretGenerator.Sha256Hex(value);
}
