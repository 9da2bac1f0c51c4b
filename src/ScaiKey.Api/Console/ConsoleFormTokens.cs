using System.Security.Cryptography;
using System.Text;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The console's form tokens: a double-submit secret cookie like the hosted pages', but under a key of the console's
/// own, and bound to the console session (its subject and the random id it got at sign-in). A token therefore works
/// only in the session it was shown in: not in another admin's session, not in a later session of the same admin,
/// and a hosted page's form token (other key, no session) is never a console token.
/// </summary>
internal sealed class ConsoleFormTokens(KeyRing keyRing, PublicOrigin origin)
{
    public const string CookieName = "scaikey_console_form";
    public const string FieldName = SignIn.FormProtection.FieldName;

    private const string CookiePath = "/console/";

    private readonly byte[] _key = keyRing.DeriveKey("scaikey:console-form-token");

    /// <summary>The token for the forms of a page shown in the session <paramref name="binding"/> names.</summary>
    public string Issue(HttpContext http, string binding)
    {
        var secret = http.Request.Cookies[CookieName];
        if (!IsWellFormedSecret(secret))
        {
            secret = SecretGenerator.Token();
            http.Response.Cookies.Append(CookieName, secret, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = origin.IsHttps || http.Request.IsHttps,
                Path = CookiePath,
                IsEssential = true,
            });
        }

        return TokenFor(secret!, binding);
    }

    /// <summary>Whether the posted form carries this browser's token for the current console session (none: never).</summary>
    public async Task<bool> IsValidAsync(HttpContext http, IFormCollection? form)
    {
        var secret = http.Request.Cookies[CookieName];
        var token = form?[FieldName].ToString() ?? string.Empty;
        if (!IsWellFormedSecret(secret) || token.Length == 0 || await ConsoleSession.FormBindingAsync(http) is not { } binding)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenFor(secret!, binding)), Encoding.ASCII.GetBytes(token));
    }

    private string TokenFor(string secret, string binding) =>
        SecretGenerator.Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(secret + "\n" + binding)));

    private static bool IsWellFormedSecret(string? secret) =>
        secret is { Length: >= 32 and <= 64 } && secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
