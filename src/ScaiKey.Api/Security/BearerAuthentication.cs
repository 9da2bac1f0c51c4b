using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using ScaiKey.Api.SignIn;
using ScaiKey.Data;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Security;

/// <summary>
/// The API's authentication scheme: OpenIddict validates a bearer token the first time this instance sees it, and
/// the validated principal is kept until the token expires, so a caller's next requests skip parsing and the
/// signature check. What can change during a token's life is still checked on every request: a user token's user,
/// session and grant, a client token's client (<see cref="TokenRevocation"/>), and roles and applications
/// (<see cref="Caller"/>).
/// Challenges and refusals are OpenIddict's, so error responses are the same either way.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ValidatedTokenCache tokens, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ScaiKey.Bearer";

    // This handler raises no events; the base class would allocate an object and a task for them on every request.
    private static readonly Task<object> NoEvents = Task.FromResult(new object());

    protected override Task<object> CreateEventsAsync() => NoEvents;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken(Request.Headers.Authorization.ToString());
        if (token is null)
        {
            // The API takes tokens from the Authorization header only (never from a query string, where logs keep
            // them); without one there is nothing to validate, which spares every anonymous and token-endpoint request
            // a pass through OpenIddict's validation pipeline.
            return AuthenticateResult.NoResult();
        }

        if (tokens.TryGet(token, time.GetUtcNow()) is { } cached)
        {
            // A user token's user, session and grant, and a client token's client (deleted applications and admin
            // clients end their tokens at once: 401 like any revoked token, not 403 from a missing role).
            if (!await TokenRevocation.IsRevokedAsync(cached, Context.RequestServices, Context.RequestAborted))
            {
                return AuthenticateResult.Success(new AuthenticationTicket(cached, SchemeName));
            }

            // Let OpenIddict refuse it, so the answer carries its usual error description.
            tokens.Remove(token);
        }

        var result = await ValidateAsync();
        if (result.Succeeded && result.Principal.GetExpirationDate() is { } expires)
        {
            tokens.Add(token, result.Principal, expires);
        }

        return result;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // OpenIddict words its challenge (missing, expired, revoked token...) from its own authentication of this
        // request, which the no-token shortcut above skipped; it runs once per request at most.
        await ValidateAsync();
        await Context.ChallengeAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, properties);
    }

    /// <summary>
    /// OpenIddict's validation of this request. Its handler needs its request hook to have run first (which
    /// UseAuthentication would do for every request); the API calls it only here, for requests that need it.
    /// </summary>
    private async Task<AuthenticateResult> ValidateAsync()
    {
        // Already done where UseAuthentication runs (the OAuth server's paths) or by an earlier call.
        if (Context.Features.Get<OpenIddictValidationAspNetCoreFeature>()?.Transaction is null)
        {
            var handlers = Context.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
            if (await handlers.GetHandlerAsync(Context, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme) is IAuthenticationRequestHandler validation
                && await validation.HandleRequestAsync())
            {
                return AuthenticateResult.NoResult();
            }
        }

        return await Context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Context.ForbidAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, properties);

    private static string? BearerToken(string header) =>
        header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.AsSpan(7).Trim().Length > 0 ? header[7..].Trim() : null;
}

/// <summary>Validated access tokens of this instance, bounded in number and never kept past their expiry.</summary>
internal sealed class ValidatedTokenCache(Telemetry.ScaiKeyMetrics metrics) : IDisposable
{
    /// <summary>Its name in scaikey.cache.requests (its own MemoryCache, keyed by the token, which no tag may carry).</summary>
    public const string MetricName = "validated-token";

    /// <summary>Beyond this many distinct live tokens, the oldest entries are compacted away (and validated again when seen).</summary>
    public const int Capacity = 20_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.25 });

    public ClaimsPrincipal? TryGet(string token, DateTimeOffset now)
    {
        var principal = _cache.TryGetValue(token, out Entry? entry) && entry is not null && entry.Expires > now ? entry.Principal : null;
        metrics.CacheRequest(MetricName, principal is not null);
        return principal;
    }

    public void Add(string token, ClaimsPrincipal principal, DateTimeOffset expires) =>
        _cache.Set(token, new Entry(principal, expires), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = expires });

    public void Remove(string token) => _cache.Remove(token);

    public void Dispose() => _cache.Dispose();

    private sealed record Entry(ClaimsPrincipal Principal, DateTimeOffset Expires);
}

internal static class BearerAuthentication
{
    /// <summary>
    /// Authentication for every request, as UseAuthentication does, except that only the OAuth server's own paths
    /// (/connect/*, /.well-known/*) are offered to OpenIddict's server first: it otherwise runs its request pipeline
    /// on every API call just to find the path is not one of its endpoints.
    /// </summary>
    public static IApplicationBuilder UseScaiKeyAuthentication(this IApplicationBuilder app)
    {
        // WebApplication puts its own UseAuthentication() in front of the whole pipeline unless the app called it,
        // which it learns from this property; the branches below are that call (a branch's builder keeps its own
        // properties). Without it, every API request went through OpenIddict's server pipeline after all.
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        app.UseWhen(http => IsServerPath(http.Request.Path), server => server.UseAuthentication());
        app.UseWhen(http => !IsServerPath(http.Request.Path), api => api.Use(async (http, next) =>
        {
            if ((await http.AuthenticateAsync()).Principal is { } principal)
            {
                http.User = principal;
            }

            await next(http);
        }));
        return app;
    }

    /// <summary>The key UseAuthentication() sets and WebApplication reads (Microsoft.AspNetCore's WebApplicationBuilder).</summary>
    internal const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    private static bool IsServerPath(PathString path) =>
        path.StartsWithSegments("/connect") || path.StartsWithSegments("/.well-known");

    public static IServiceCollection AddScaiKeyBearerAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ValidatedTokenCache>();
        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        return services;
    }
}
