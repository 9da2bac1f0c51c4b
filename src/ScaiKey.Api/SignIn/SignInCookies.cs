using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.SignIn;

/// <summary>Who the browser is signed in as, according to its sign-in cookie (not yet checked against the database).</summary>
internal sealed record SignInCookie(string TenantId, string UserId, string SessionId, DateTimeOffset AuthenticatedAt);

/// <summary>A signed-in browser whose session, user and tenant were found to still stand.</summary>
internal sealed record SignedInUser(string UserId, string SessionId, string Email, bool RequirePasswordChange, DateTimeOffset AuthenticatedAt);

/// <summary>
/// The browser session of the hosted sign-in pages: a cookie naming the tenant, user and sign-in session. It proves
/// only who signed in; whether the session still stands is read from the database each time it is used.
/// </summary>
internal static class SignInCookies
{
    public const string Scheme = "ScaiKey.SignIn";
    public const string CookieName = "scaikey_signin";

    /// <summary>How long a browser stays signed in without entering the password again; ScaiKey:SignIn:CookieHours.</summary>
    public const int DefaultCookieHours = 8;

    public static IServiceCollection AddScaiKeySignInCookies(this IServiceCollection services)
    {
        SignInOptions.AddTo(services);
        services.AddSingleton<FormProtection>();
        services.AddSingleton<SignInTicketFormat>();
        services.AddAuthentication().AddCookie(Scheme);
        services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<SignInTicketFormat, Microsoft.Extensions.Options.IOptions<SignInOptions>, PublicOrigin>((options, format, signIn, origin) =>
            {
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;

                // Lax, not Strict: the authorization endpoint is reached by a top-level redirect from the client's
                // site, and must see the cookie then to skip the login page.
                options.Cookie.SameSite = SameSiteMode.Lax;

                // With an https issuer, always Secure: behind a TLS-terminating proxy the request itself may say http.
                options.Cookie.SecurePolicy = origin.IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                options.Cookie.Path = "/";
                options.ExpireTimeSpan = TimeSpan.FromHours(signIn.Value.CookieHours);
                options.SlidingExpiration = false;

                // Sealed under the key-encryption key rather than ASP.NET Data Protection, whose keys would differ
                // between instances: every instance sharing the database reads every instance's cookie.
                options.TicketDataFormat = format;

                // This scheme is never challenged by the framework; the pages redirect to the login page themselves.
                options.Events.OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                };
                options.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            });
        return services;
    }

    public static Task SignInAsync(HttpContext http, string tenantId, string userId, string sessionId)
    {
        var identity = new ClaimsIdentity(Scheme, Claims.Subject, Claims.Role);
        identity.SetClaim(Claims.Subject, userId);
        identity.SetClaim(ScaiKeyClaims.TenantId, tenantId);
        identity.SetClaim(ScaiKeyClaims.SessionId, sessionId);
        return http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
    }

    public static Task SignOutAsync(HttpContext http) => http.SignOutAsync(Scheme);

    /// <summary>
    /// The browser's user in <paramref name="tenantId"/>, or null when its cookie is missing, for another tenant, or
    /// names a session that was revoked or a user who is no longer ACTIVE (read now, so revocation applies at once).
    /// </summary>
    public static async Task<SignedInUser?> SignedInUserAsync(HttpContext http, ScaiKeyDbContext db, string tenantId, CancellationToken ct)
    {
        var cookie = await ReadAsync(http);
        if (cookie is null || cookie.TenantId != tenantId)
        {
            return null;
        }

        var user = await db.UserSessions.AsNoTracking()
            .Where(s => s.Id == cookie.SessionId && s.UserId == cookie.UserId && s.TenantId == tenantId && s.RevokedAt == null)
            .Join(db.Users.Where(u => u.DeletedAt == null && u.Status == UserStatus.Active), s => s.UserId, u => u.Id,
                (s, u) => new { u.Email, u.RequirePasswordChange })
            .FirstOrDefaultAsync(ct);
        return user is null
            ? null
            : new SignedInUser(cookie.UserId, cookie.SessionId, user.Email, user.RequirePasswordChange, cookie.AuthenticatedAt);
    }

    /// <summary>The cookie's claims, or null without a readable, unexpired cookie.</summary>
    public static async Task<SignInCookie?> ReadAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        var principal = result.Succeeded ? result.Principal : null;
        var tenantId = principal?.GetClaim(ScaiKeyClaims.TenantId);
        var userId = principal?.GetClaim(Claims.Subject);
        var sessionId = principal?.GetClaim(ScaiKeyClaims.SessionId);
        if (tenantId is null || userId is null || sessionId is null)
        {
            return null;
        }

        return new SignInCookie(tenantId, userId, sessionId, result.Properties?.IssuedUtc ?? DateTimeOffset.MinValue);
    }
}

/// <summary>Seals the cookie's ticket with AES-256-GCM under a key derived from the key-encryption key.</summary>
internal sealed class SignInTicketFormat(KeyRing keyRing) : ISecureDataFormat<AuthenticationTicket>
{
    private const string Context = "scaikey:signin-cookie";

    // Nonce and tag: anything shorter cannot be a sealed ticket.
    private const int MinimumSealedBytes = 28;

    private readonly KeyRing _sealer = new(keyRing.DeriveKey(Context));

    public string Protect(AuthenticationTicket data) => Protect(data, purpose: null);

    public string Protect(AuthenticationTicket data, string? purpose) =>
        ToBase64Url(_sealer.Seal(TicketSerializer.Default.Serialize(data), Context + ":" + purpose));

    public AuthenticationTicket? Unprotect(string? protectedText) => Unprotect(protectedText, purpose: null);

    public AuthenticationTicket? Unprotect(string? protectedText, string? purpose)
    {
        if (string.IsNullOrEmpty(protectedText) || protectedText.Length > 8192)
        {
            return null;
        }

        try
        {
            var sealedText = FromBase64Url(protectedText);
            if (Convert.FromBase64String(sealedText).Length < MinimumSealedBytes)
            {
                return null;
            }

            return TicketSerializer.Default.Deserialize(_sealer.Open(sealedText, Context + ":" + purpose));
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            // A cookie from another deployment, a tampered one, or garbage: simply not signed in.
            return null;
        }
    }

    private static string ToBase64Url(string base64) => base64.TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string FromBase64Url(string value)
    {
        var base64 = value.Replace('-', '+').Replace('_', '/');
        return (base64.Length % 4) switch
        {
            2 => base64 + "==",
            3 => base64 + "=",
            _ => base64,
        };
    }
}

/// <summary>
/// Cross-site request forgery protection for the hosted forms: a random secret in a SameSite=Strict cookie, and in
/// the form its HMAC under a key derived from the key-encryption key. A forged cross-site POST carries neither the
/// cookie (Strict) nor a token matching it. Built on the key ring rather than ASP.NET antiforgery, whose Data
/// Protection keys would differ between instances: a form served by one instance posts fine to another.
/// </summary>
internal sealed class FormProtection
{
    public const string CookieName = "scaikey_form";
    public const string FieldName = "form_token";

    private readonly PublicOrigin _origin;
    private readonly string _cookieName;
    private readonly byte[] _key;

    public FormProtection(KeyRing keyRing, PublicOrigin origin)
        : this(keyRing, origin, CookieName, "scaikey:hosted-form-token")
    {
    }

    /// <summary>
    /// The same protection for another set of forms (the admin console's) under a cookie and key of their own, so a
    /// token of one set is never a token of the other.
    /// </summary>
    internal FormProtection(KeyRing keyRing, PublicOrigin origin, string cookieName, string keyPurpose)
    {
        _origin = origin;
        _cookieName = cookieName;
        _key = keyRing.DeriveKey(keyPurpose);
    }

    /// <summary>The token to embed in a hosted page's form; gives the browser its secret cookie first if it has none.</summary>
    public string IssueToken(HttpContext http) => IssueToken(http, http.Request.PathBase + "/t/");

    /// <summary>
    /// The same for a form that posts under <paramref name="cookiePath"/> (the logout confirmation posts to
    /// /connect/logout); the secret cookie is sent only there, as it is only to the hosted pages otherwise.
    /// </summary>
    public string IssueToken(HttpContext http, string cookiePath) => IssueToken(http, cookiePath, binding: null);

    /// <summary>
    /// The same, bound to <paramref name="binding"/> (the console's session): the token is valid only where
    /// <see cref="IsValid(HttpContext, IFormCollection, string?)"/> is given the same binding.
    /// </summary>
    public string IssueToken(HttpContext http, string cookiePath, string? binding)
    {
        var secret = http.Request.Cookies[_cookieName];
        if (!IsWellFormedSecret(secret))
        {
            secret = SecretGenerator.Token();
            http.Response.Cookies.Append(_cookieName, secret, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = _origin.IsHttps || http.Request.IsHttps,
                Path = cookiePath,
                IsEssential = true,
            });
        }

        return TokenFor(secret!, binding);
    }

    public bool IsValid(HttpContext http, IFormCollection form) => IsValid(http, form, binding: null);

    public bool IsValid(HttpContext http, IFormCollection form, string? binding)
    {
        var secret = http.Request.Cookies[_cookieName];
        var token = form[FieldName].ToString();
        if (!IsWellFormedSecret(secret) || token.Length == 0)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenFor(secret!, binding)), Encoding.ASCII.GetBytes(token));
    }

    // A secret never holds a newline, so a bound token's input cannot equal an unbound one's.
    private string TokenFor(string secret, string? binding) =>
        SecretGenerator.Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(binding is null ? secret : secret + "\n" + binding)));

    private static bool IsWellFormedSecret(string? secret) =>
        secret is { Length: >= 32 and <= 64 } && secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
