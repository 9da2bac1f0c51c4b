using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using ScaiKey.Api.Authorization;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OpenApi;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.OAuth;

[Description("ACTIVE: signs new tokens. PUBLISHED: in the JWKS and accepted, no longer signing, until retired_at. RETIRED: neither.")]
internal enum SigningKeyState
{
    Active,
    Published,
    Retired,
}

[Description("A token key: its metadata only, never its material.")]
internal sealed record SigningKeyResponse(
    [property: Description("The key id (JWT header kid, JWKS kid).")] string Kid,
    [property: Description("sig: signs tokens (ES256). enc: encrypts authorization codes and refresh tokens (A256KW).")] string Use,
    string Algorithm,
    DateTime CreatedAt,
    [property: Description("When the key stops (or stopped) being published and accepted; null while it is the signing key.")] DateTime? RetiredAt,
    SigningKeyState State);

/// <summary>
/// /api/v1/admin/signing-keys: the token keys held in the database, and rotation of the signing key. Platform admins
/// only: a key signs tokens for every tenant.
/// </summary>
internal static class SigningKeyEndpoints
{
    private const string RotatedAction = "signing_key.rotated";
    private const string RetiringAction = "signing_key.retirement_scheduled";

    public static RouteGroupBuilder MapSigningKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/signing-keys").WithTags("Signing Keys").RequireAuthorization(ScaiKeyPolicies.Platform);
        group.MapGet("", ListAsync).WithSummary("List Signing Keys")
            .WithDescription("Every token key, newest first, with its state. Key material is never returned.")
            .Returns<ApiResponse<IReadOnlyList<SigningKeyResponse>>>().ReturnsProblems(403);
        group.MapGet("/{kid}", GetAsync).WithSummary("Get Signing Key").Returns<ApiResponse<SigningKeyResponse>>().ReturnsProblems(403, 404);
        group.MapPost("/rotate", RotateAsync).WithSummary("Rotate Signing Key")
            .WithDescription("Creates a new ES256 key that signs from now on (on other instances within their refresh " +
                "interval). The keys it replaces stay published and accepted until retired_at: the longest token " +
                "lifetime plus that interval, so every token they signed expires first.")
            .Returns<ApiResponse<SigningKeyResponse>>(StatusCodes.Status201Created).ReturnsProblems(403);
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var rows = await db.SigningKeys.AsNoTracking().ToListAsync(ct);
        var states = States(rows, time.UtcNow());
        IReadOnlyList<SigningKeyResponse> items = rows
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id, StringComparer.Ordinal)
            .Select(k => ToResponse(k, states[k.Id])).ToList();
        return TypedResults.Ok(Envelope.Of(http, items));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "kid")] string kid, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] TimeProvider time, CancellationToken ct)
    {
        // States depend on the other keys of the same use (which one is newest), so all of them are read; they are few.
        var rows = await db.SigningKeys.AsNoTracking().ToListAsync(ct);
        var row = rows.Find(k => k.Id == kid);
        return row is null
            ? Problems.NotFound("Signing key not found.")
            : TypedResults.Ok(Envelope.Of(http, ToResponse(row, States(rows, time.UtcNow())[row.Id])));
    }

    private static async Task<IResult> RotateAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] SigningKeyStore store, [FromServices] IOptionsMonitor<OpenIddictServerOptions> server,
        [FromServices] AuditLog audit, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var now = time.UtcNow();
        var retireAt = now + RetentionAfterRotation(server.CurrentValue, store.RefreshInterval);
        var key = store.NewSigningKey(now);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);

        // Lock the current signing keys first (a no-op update takes the row locks on PostgreSQL; SQLite serializes
        // writers), so a concurrent rotation waits for this one and then retires the key made here, not only the older one.
        await db.SigningKeys.Where(k => k.Use == SigningKeyStore.SignatureUse && k.RetiredAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.CreatedAt, k => k.CreatedAt), ct);
        var replaced = await db.SigningKeys
            .Where(k => k.Use == SigningKeyStore.SignatureUse && k.RetiredAt == null)
            .Select(k => k.Id).ToListAsync(ct);

        db.SigningKeys.Add(key);
        audit.Record(RotatedAction, "signing_key", key.Id, null);
        foreach (var id in replaced)
        {
            audit.Record(RetiringAction, "signing_key", id, null, ["retired_at"]);
        }

        await db.SaveChangesAsync(ct);
        await db.SigningKeys.Where(k => replaced.Contains(k.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RetiredAt, retireAt), ct);
        await transaction.CommitAsync(ct);

        // This instance signs with the new key from the next token on; others pick it up on their next refresh, or
        // as soon as a token signed with it reaches them.
        await store.ReloadAsync(ct);
        return TypedResults.Created($"/api/v1/admin/signing-keys/{key.Id}", Envelope.Of(http, ToResponse(key, SigningKeyState.Active)));
    }

    /// <summary>
    /// How long a replaced key stays published: the longest lifetime of a token it may have signed (refresh tokens,
    /// normally), plus the refresh interval during which other instances may still sign with it, plus a margin for
    /// clocks. OpenIddict validates lifetimes without clock skew, so nothing signed by it is still valid afterwards.
    /// </summary>
    public static TimeSpan RetentionAfterRotation(OpenIddictServerOptions options, TimeSpan refreshInterval)
    {
        TimeSpan?[] lifetimes =
        [
            options.AccessTokenLifetime, options.RefreshTokenLifetime, options.IdentityTokenLifetime, options.AuthorizationCodeLifetime,
        ];
        return lifetimes.Max(l => l ?? TimeSpan.Zero) + refreshInterval + SigningKeyStore.RetirementMargin;
    }

    /// <summary>The state of every key, chosen the way <see cref="SigningKeyStore"/> chooses what to sign with.</summary>
    private static Dictionary<string, SigningKeyState> States(List<SigningKey> rows, DateTime now)
    {
        var states = new Dictionary<string, SigningKeyState>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            states[row.Id] = row.RetiredAt is { } retired && retired <= now ? SigningKeyState.Retired : SigningKeyState.Published;
        }

        var signing = rows.Where(k => k.Use == SigningKeyStore.SignatureUse && states[k.Id] != SigningKeyState.Retired)
            .OrderByDescending(k => k.RetiredAt is null).ThenByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id, StringComparer.Ordinal)
            .FirstOrDefault();
        var encryption = rows.Where(k => k.Use == SigningKeyStore.EncryptionUse && k.RetiredAt == null)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).FirstOrDefault();
        foreach (var active in new[] { signing, encryption })
        {
            if (active is not null)
            {
                states[active.Id] = SigningKeyState.Active;
            }
        }

        return states;
    }

    private static SigningKeyResponse ToResponse(SigningKey k, SigningKeyState state) =>
        new(k.Id, k.Use, k.Algorithm, k.CreatedAt, k.RetiredAt, state);
}
