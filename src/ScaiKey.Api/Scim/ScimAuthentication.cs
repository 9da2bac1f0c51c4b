using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;

namespace ScaiKey.Api.Scim;

/// <summary>
/// Provisioning tokens: "scim_" and 43 characters of base64url (256 random bits), stored as their SHA-256 in hex.
/// A hash of a high-entropy secret needs no slow hashing; the lookup is one indexed read.
/// </summary>
internal static class ScimTokens
{
    public const string Marker = "scim_";
    public const int PrefixLength = 12;

    public static string New() => Marker + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// /scim/v2's authentication: a provisioning token of the scim_tokens table, looked up on every request (deleting the
/// row ends it at once: nothing caches it), refused once expired or once its tenant is deleted. The principal names
/// the token (principal type SCIM_TOKEN, subject the token id), so audit events carry the token as their actor, and
/// it carries no audience: the management API refuses it even if it ever reached one. Challenges are SCIM errors.
/// </summary>
internal sealed class ScimAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ScaiKey.Scim";
    public const string PrincipalType = "SCIM_TOKEN";
    private const string TenantItem = "scaikey.scim.tenant";

    // A token's last use is recorded at most this often, so provisioning bursts do not write the row on each request.
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var token = header[7..].Trim();
        if (!token.StartsWith(ScimTokens.Marker, StringComparison.Ordinal) || token.Length > 200)
        {
            return AuthenticateResult.Fail("Not a SCIM provisioning token.");
        }

        var db = Context.RequestServices.GetRequiredService<ScaiKeyDbContext>();
        var hash = ScimTokens.Hash(token);
        var row = await db.ScimTokens.AsNoTracking().Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.TenantId, t.ExpiresAt, t.LastUsedAt }).FirstOrDefaultAsync(Context.RequestAborted);
        var now = time.GetUtcNow().UtcDateTime;
        if (row is null || (row.ExpiresAt is { } expires && expires <= now))
        {
            return AuthenticateResult.Fail("The SCIM token is unknown, revoked or expired.");
        }

        var tenant = await TenantLookup.FindCachedAsync(db, Context.RequestServices.GetRequiredService<IMemoryCache>(), row.TenantId, Context.RequestAborted);
        if (tenant is null)
        {
            return AuthenticateResult.Fail("The SCIM token's tenant no longer exists.");
        }

        if (row.LastUsedAt is null || row.LastUsedAt < now - LastUsedGranularity)
        {
            var threshold = now - LastUsedGranularity;
            await db.ScimTokens.Where(t => t.Id == row.Id && (t.LastUsedAt == null || t.LastUsedAt < threshold))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }

        Context.Items[TenantItem] = tenant;
        var identity = new ClaimsIdentity(
            [
                new Claim(ScaiKeyClaims.PrincipalType, PrincipalType),
                new Claim(OpenIddictConstants.Claims.Subject, row.Id),
                new Claim(ScaiKeyClaims.TenantId, row.TenantId),
            ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = result.Failure is null
            ? "Bearer realm=\"scim\""
            : "Bearer realm=\"scim\", error=\"invalid_token\"";
        await ScimResults.WriteErrorAsync(Context, new ScimError(401, null, result.Failure is null
            ? "A SCIM provisioning token is required (Authorization: Bearer scim_...)."
            : "The bearer token is not a valid SCIM provisioning token of this service (unknown, revoked or expired)."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ScimResults.WriteErrorAsync(Context, new ScimError(403, null, "This token may not perform this action."));

    /// <summary>The token's tenant, set when the token was authenticated.</summary>
    public static TenantContext Tenant(HttpContext http) =>
        http.Items[TenantItem] as TenantContext ?? throw new InvalidOperationException("No SCIM token was authenticated for this request.");

    public static bool IsScimPath(PathString path) => path.StartsWithSegments(ScimSetup.BasePath, StringComparison.OrdinalIgnoreCase);
}
