using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.IdentityModel.JsonWebTokens;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The signed-in admin as the console knows them: who, where from, and the tokens it calls the API with.</summary>
internal sealed record ConsoleUser(string UserId, string TenantId, string Email, string AccessToken, string SessionId = "")
{
    /// <summary>What the console's form tokens are bound to: this admin in this session.</summary>
    public string FormBinding => ConsoleSession.FormBinding(UserId, SessionId);
}

/// <summary>
/// The console's session: a cookie holding the admin's tokens, sealed under a key derived from the key-encryption key
/// (like the sign-in cookie, so every instance sharing the database reads it), HttpOnly, SameSite=Lax, Secure
/// whenever the issuer is https, and sent only to /console. The access token is refreshed with the refresh token
/// when it is about to expire; when that fails the admin signs in again.
/// </summary>
internal static class ConsoleSession
{
    public const string Scheme = "ScaiKey.Console";
    public const string CookieName = "scaikey_console";
    public const string CookiePath = "/console";

    private const string AccessToken = "access_token";
    private const string RefreshToken = "refresh_token";
    private const string IdToken = "id_token";
    private const string ExpiresAt = "expires_at";

    // A random id per sign-in, so a form token of one session is refused in any other (ConsoleFormTokens).
    private const string SessionIdClaim = "console_sid";

    // Refreshed this long before expiry, so a page's several API calls all carry a token that is still valid.
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    public static void AddConsoleSession(IServiceCollection services)
    {
        services.AddSingleton<ConsoleTicketFormat>();
        services.AddSingleton<ConsoleFormTokens>();
        services.AddAuthentication().AddCookie(Scheme);
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<ConsoleTicketFormat, PublicOrigin>((options, format, origin) =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;

            // Lax: the callback is a top-level redirect from the login page and must set it; Strict would add nothing
            // the form tokens do not already give every POST.
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = origin.IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            options.Cookie.Path = CookiePath;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = false;
            options.TicketDataFormat = format;
            options.Events.OnRedirectToLogin = context =>
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            };
        });
    }

    /// <summary>Starts the session from a token response of the code exchange.</summary>
    public static async Task<bool> SignInAsync(HttpContext http, ApiResult tokens, TimeProvider time)
    {
        if (tokens.Json?[AccessToken]?.ToString() is not { } access || ReadClaims(access, tokens.Json?[IdToken]?.ToString()) is not { } claims)
        {
            return false;
        }

        var identity = new ClaimsIdentity(Scheme);
        identity.AddClaim(new Claim("sub", claims.Subject));
        identity.AddClaim(new Claim(ScaiKeyClaims.TenantId, claims.TenantId));
        identity.AddClaim(new Claim("email", claims.Email));
        identity.AddClaim(new Claim(SessionIdClaim, SecretGenerator.Token()));
        var properties = new AuthenticationProperties { IsPersistent = false };
        Store(properties, tokens, time);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), properties);
        return true;
    }

    /// <summary>The signed-in admin, with an access token refreshed when needed; null when not signed in (any more).</summary>
    public static async Task<ConsoleUser?> CurrentAsync(HttpContext http, ConsoleApi api, TimeProvider time, CancellationToken ct)
    {
        var result = await http.AuthenticateAsync(Scheme);
        if (!result.Succeeded || result.Properties is not { } properties || result.Principal is not { } principal)
        {
            return null;
        }

        var access = properties.GetTokenValue(AccessToken);
        var expires = DateTimeOffset.TryParse(properties.GetTokenValue(ExpiresAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at : DateTimeOffset.MinValue;
        if (access is null || expires - RefreshMargin <= time.GetUtcNow())
        {
            if (properties.GetTokenValue(RefreshToken) is not { } refresh)
            {
                return null;
            }

            var refreshed = await api.PostFormAsync("connect/token",
            [
                new("grant_type", "refresh_token"), new("refresh_token", refresh), new("client_id", OAuth.ConsoleClient.ClientId),
            ], ct);
            if (!refreshed.IsSuccess || refreshed.Json?[AccessToken]?.ToString() is not { } fresh)
            {
                await http.SignOutAsync(Scheme);
                return null;
            }

            Store(properties, refreshed, time);
            await http.SignInAsync(Scheme, principal, properties);
            access = fresh;
        }

        return new ConsoleUser(principal.FindFirstValue("sub") ?? string.Empty, principal.FindFirstValue(ScaiKeyClaims.TenantId) ?? string.Empty,
            principal.FindFirstValue("email") ?? string.Empty, access, principal.FindFirstValue(SessionIdClaim) ?? string.Empty);
    }

    /// <summary>The form-token binding of the console session this request carries (not refreshed), or null without one.</summary>
    public static async Task<string?> FormBindingAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        return result.Succeeded && result.Principal?.FindFirstValue("sub") is { } subject
            ? FormBinding(subject, result.Principal.FindFirstValue(SessionIdClaim) ?? string.Empty)
            : null;
    }

    public static string FormBinding(string subject, string sessionId) => subject + "\n" + sessionId;

    /// <summary>The refresh and ID tokens of the session, for sign-out.</summary>
    public static async Task<(string? RefreshToken, string? IdToken)> EndingTokensAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        return (result.Properties?.GetTokenValue(RefreshToken), result.Properties?.GetTokenValue(IdToken));
    }

    private static void Store(AuthenticationProperties properties, ApiResult tokens, TimeProvider time)
    {
        var old = properties.GetTokens().ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal);
        var seconds = int.TryParse(tokens.Json?["expires_in"]?.ToString(), CultureInfo.InvariantCulture, out var s) ? s : 300;
        var list = new List<AuthenticationToken>
        {
            new() { Name = AccessToken, Value = tokens.Json![AccessToken]!.ToString() },
            new() { Name = ExpiresAt, Value = time.GetUtcNow().AddSeconds(seconds).ToString("o", CultureInfo.InvariantCulture) },
        };

        // A refresh answer may omit the refresh or ID token; the earlier ones then stay.
        foreach (var name in new[] { RefreshToken, IdToken })
        {
            if ((tokens.Json![name]?.ToString() ?? old.GetValueOrDefault(name)) is { } value)
            {
                list.Add(new AuthenticationToken { Name = name, Value = value });
            }
        }

        properties.StoreTokens(list);
    }

    private sealed record TokenClaims(string Subject, string TenantId, string Email);

    /// <summary>
    /// Who the access token speaks for. It came straight from ScaiKey's token endpoint over the back channel, so its
    /// claims are read without checking the signature (OpenID Connect Core 3.1.3.7); the API checks the access token on every call.
    /// </summary>
    private static TokenClaims? ReadClaims(string accessToken, string? idToken)
    {
        try
        {
            var jwt = new JsonWebToken(accessToken);
            var subject = jwt.TryGetPayloadValue<string>("sub", out var sub) ? sub : null;
            var tenant = jwt.TryGetPayloadValue<string>(ScaiKeyClaims.TenantId, out var tid) ? tid : null;

            // The email is an ID token claim (openid email scopes), shown only to say who is signed in.
            var email = idToken is not null && new JsonWebToken(idToken).TryGetPayloadValue<string>("email", out var mail) ? mail : string.Empty;
            return subject is null || tenant is null ? null : new TokenClaims(subject, tenant, email);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>Seals the console's cookie ticket under its own key derived from the key-encryption key.</summary>
internal sealed class ConsoleTicketFormat(KeyRing keyRing) : ISecureDataFormat<AuthenticationTicket>
{
    private const string Context = "scaikey:console-cookie";

    // The reassembled (chunked) cookie: tokens make it a few kilobytes; anything far larger is not ours.
    private const int MaxLength = 32 * 1024;

    private readonly KeyRing _sealer = new(keyRing.DeriveKey(Context));

    public string Protect(AuthenticationTicket data) => Protect(data, purpose: null);

    public string Protect(AuthenticationTicket data, string? purpose) =>
        Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(
            System.Text.Encoding.ASCII.GetBytes(_sealer.Seal(TicketSerializer.Default.Serialize(data), Context + ":" + purpose)));

    public AuthenticationTicket? Unprotect(string? protectedText) => Unprotect(protectedText, purpose: null);

    public AuthenticationTicket? Unprotect(string? protectedText, string? purpose)
    {
        if (string.IsNullOrEmpty(protectedText) || protectedText.Length > MaxLength)
        {
            return null;
        }

        try
        {
            var sealedText = System.Text.Encoding.ASCII.GetString(Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(protectedText));
            return TicketSerializer.Default.Deserialize(_sealer.Open(sealedText, Context + ":" + purpose));
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }
}
