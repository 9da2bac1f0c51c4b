using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>A SAML_AUTHN request (sealed): where the sign-in goes after, and the browser it belongs to.</summary>
internal sealed record SamlAuthnData(string? ReturnUrl, string BindingHash);

/// <summary>
/// A validated response waiting for its browser (sealed): the ACS is a cross-site POST, which carries no SameSite=Lax
/// cookie, so it hands over to a same-site GET that does, and there the browser binding is checked.
/// </summary>
internal sealed record SamlContinueData(UpstreamClaims Claims, string? ReturnUrl, string BindingHash);

/// <summary>
/// The SAML flows in flight as <see cref="FederationRequest"/> rows: the AuthnRequest (its id is the AuthnRequest
/// ID, an NCName, and the RelayState) and the hand-over from the ACS to the browser. Each is used at most once.
/// </summary>
internal sealed class SamlRequests(ScaiKeyDbContext db, KeyRing keyRing, TimeProvider time, IOptions<FederationOptions> options)
{
    /// <summary>The ACS's hand-over to the browser's GET (not a kind the foundation lists: the column holds any short text).</summary>
    public const string ContinueKind = "SAML_CONTINUE";

    private static readonly TimeSpan ContinueLifetime = TimeSpan.FromMinutes(2);

    public async Task<string> CreateAsync<T>(string kind, string tenantId, string providerId, T data, CancellationToken ct)
    {
        var now = time.UtcNow();
        var id = SamlXml.NewId();
        db.FederationRequests.Add(new FederationRequest
        {
            Id = id,
            TenantId = tenantId,
            IdentityProviderId = providerId,
            Kind = kind,
            SealedData = keyRing.Seal(JsonSerializer.SerializeToUtf8Bytes(data, ApiJson.Options), Context(id, kind)),
            CreatedAt = now,
            ExpiresAt = now + (kind == ContinueKind ? ContinueLifetime : TimeSpan.FromSeconds(options.Value.RequestLifetimeSeconds)),
        });

        // As FederationRequests does: expired requests are swept as new ones are made.
        await db.FederationRequests.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);
        return id;
    }

    /// <summary>
    /// Uses up a live request of this provider and kind and returns its data; null when there is none (unknown,
    /// another provider's, expired, or used already). The conditional update lets exactly one caller have it.
    /// </summary>
    public async Task<T?> ConsumeAsync<T>(string id, string providerId, string kind, CancellationToken ct)
        where T : class
    {
        if (id.Length is 0 or > 36)
        {
            return null;
        }

        var now = time.UtcNow();
        var used = await db.FederationRequests
            .Where(r => r.Id == id && r.IdentityProviderId == providerId && r.Kind == kind && r.ConsumedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConsumedAt, now), ct);
        if (used != 1)
        {
            return null;
        }

        var sealedData = await db.FederationRequests.AsNoTracking().Where(r => r.Id == id).Select(r => r.SealedData).FirstAsync(ct);
        return JsonSerializer.Deserialize<T>(keyRing.Open(sealedData, Context(id, kind)), ApiJson.Options);
    }

    /// <summary>
    /// Records an accepted assertion until it expires; false when this provider's assertion id was accepted before
    /// (a replay). Expired records of the provider are dropped on the way.
    /// </summary>
    public async Task<bool> RecordAssertionAsync(string providerId, string assertionId, DateTime expiresAt, CancellationToken ct)
    {
        var now = time.UtcNow();
        await db.FederationReplays.Where(r => r.IdentityProviderId == providerId && r.ExpiresAt < now).ExecuteDeleteAsync(ct);
        if (await db.FederationReplays.AnyAsync(r => r.IdentityProviderId == providerId && r.AssertionId == assertionId, ct))
        {
            return false;
        }

        // Kept a little past the assertion's own end, by the clock skew it is accepted with.
        db.FederationReplays.Add(new FederationReplay
        {
            IdentityProviderId = providerId,
            AssertionId = assertionId,
            ExpiresAt = expiresAt + SamlResponseValidator.ClockSkew,
        });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    // Sealed data of one request cannot be pasted into another, or read as another kind.
    private static string Context(string id, string kind) => $"scaikey:saml-request:{kind}:{id}";
}
