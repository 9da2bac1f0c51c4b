using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using ScaiKey.Api.SignIn;
using ScaiKey.Data;

namespace ScaiKey.Api.Security;

/// <summary>
/// The API's authentication scheme: OpenIddict validates a bearer token the first time this instance sees it, and
/// the validated principal is kept until the token expires, so a caller's next requests skip parsing and the
/// signature check. What can change during a token's life is still checked on every request: a user token's user,
/// session and grant (<see cref="UserTokenRevocation"/>), and roles and applications (<see cref="Caller"/>).
/// Challenges and refusals go to OpenIddict, so error responses are the same either way.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ValidatedTokenCache tokens, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ScaiKey.Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken(Request.Headers.Authorization.ToString());
        if (token is not null && tokens.TryGet(token, time.GetUtcNow()) is { } cached)
        {
            if (!await UserTokenRevocation.IsRevokedAsync(cached, Context.RequestServices, Context.RequestAborted))
            {
                return AuthenticateResult.Success(new AuthenticationTicket(cached, SchemeName));
            }

            // Let OpenIddict refuse it, so the answer carries its usual error description.
            tokens.Remove(token);
        }

        var result = await Context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (token is not null && result.Succeeded && result.Principal.GetExpirationDate() is { } expires)
        {
            tokens.Add(token, result.Principal, expires);
        }

        return result;
    }

    private static string? BearerToken(string header) =>
        header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
}

/// <summary>Validated access tokens of this instance, bounded in number and never kept past their expiry.</summary>
internal sealed class ValidatedTokenCache : IDisposable
{
    /// <summary>Beyond this many distinct live tokens, the oldest entries are compacted away (and validated again when seen).</summary>
    public const int Capacity = 20_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.25 });

    public ClaimsPrincipal? TryGet(string token, DateTimeOffset now) =>
        _cache.TryGetValue(token, out Entry? entry) && entry is not null && entry.Expires > now ? entry.Principal : null;

    public void Add(string token, ClaimsPrincipal principal, DateTimeOffset expires) =>
        _cache.Set(token, new Entry(principal, expires), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = expires });

    public void Remove(string token) => _cache.Remove(token);

    public void Dispose() => _cache.Dispose();

    private sealed record Entry(ClaimsPrincipal Principal, DateTimeOffset Expires);
}

internal static class BearerAuthentication
{
    public static IServiceCollection AddScaiKeyBearerAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ValidatedTokenCache>();
        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, options =>
            {
                options.ForwardChallenge = OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme;
                options.ForwardForbid = OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme;
            });
        return services;
    }
}
