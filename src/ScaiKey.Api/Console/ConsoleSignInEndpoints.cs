using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using ScaiKey.Api.Http;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// Signing in to the console is signing in to ScaiKey: the code flow with PKCE through the built-in public client
/// <see cref="ConsoleClient"/>, asking for <see cref="OAuthSetup.AdminScope"/>, on the hosted login page of the
/// tenant the admin names (second factors included). The code is redeemed server-side over the back channel; the
/// tokens then live in the sealed session cookie, never in the page.
/// </summary>
internal static class ConsoleSignInEndpoints
{
    public const string CallbackPath = ConsoleClient.WebConsoleCallbackPath;
    private const string FlowCookie = "scaikey_console_flow";
    private const string Scopes = "openid offline_access email profile " + OAuthSetup.AdminScope;
    private static readonly TimeSpan FlowLifetime = TimeSpan.FromMinutes(15);

    private sealed record Flow(string State, string Verifier, string ReturnUrl, DateTimeOffset Expires);

    public static void Map(IEndpointRouteBuilder console)
    {
        console.MapGet("/sign-in", (HttpContext http, string? tenant, string? return_url) => ConsolePages.Render<Components.SignInPage>(http, new()
        {
            ["Tenant"] = tenant, ["ReturnUrl"] = ConsolePages.IsLocalConsoleUrl(return_url) ? return_url : null,
        }));
        console.MapGet("/sign-in/start", Start);
        console.MapGet("/callback", CallbackAsync);
        console.MapPost("/sign-out", SignOutAsync);
    }

    /// <summary>The console's redirect URI: under the issuer when one is configured, else this request's origin.</summary>
    public static string RedirectUri(HttpContext http)
    {
        var issuer = http.RequestServices.GetRequiredService<PublicOrigin>().Issuer;
        return issuer is not null
            ? issuer.AbsoluteUri.TrimEnd('/') + CallbackPath
            : RequestInfo.OriginOf(http) + CallbackPath;
    }

    private static IResult Start(HttpContext http, [FromServices] KeyRing keyRing, [FromServices] TimeProvider time, string? tenant, string? return_url)
    {
        var slug = (tenant ?? string.Empty).Trim().ToLowerInvariant();
        if (slug.Length > 63 || slug.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            return ConsolePages.Render<Components.SignInPage>(http, new()
            {
                ["Tenant"] = tenant, ["Error"] = "A tenant is named by its slug: letters, digits and hyphens.",
                ["ReturnUrl"] = ConsolePages.IsLocalConsoleUrl(return_url) ? return_url : null,
            }, StatusCodes.Status422UnprocessableEntity);
        }

        var verifier = SecretGenerator.Token();
        var state = SecretGenerator.Token();
        var returnUrl = ConsolePages.IsLocalConsoleUrl(return_url) ? return_url! : "/console";
        var flow = new Flow(state, verifier, returnUrl, time.GetUtcNow() + FlowLifetime);
        http.Response.Cookies.Append(FlowCookie, Seal(keyRing, flow), FlowCookieOptions(http));

        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = ConsoleClient.ClientId, ["response_type"] = "code", ["redirect_uri"] = RedirectUri(http), ["scope"] = Scopes,
            ["state"] = state, ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        };
        if (slug.Length > 0)
        {
            query[ConsoleClient.TenantParameter] = slug;
        }

        return Results.Redirect(QueryHelpers.AddQueryString(http.Request.PathBase + "/" + OAuthSetup.AuthorizePath, query));
    }

    private static async Task<IResult> CallbackAsync(HttpContext http, [FromServices] KeyRing keyRing, [FromServices] ConsoleApi api, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var query = http.Request.Query;

        // The end-session endpoint sends the browser back here too (the one registered address), without a code.
        if (!query.ContainsKey("code") && !query.ContainsKey("error"))
        {
            return ConsolePages.Render<Components.MessagePage>(http, new()
            {
                ["Heading"] = "Signed out", ["Text"] = "You have been signed out of the console.", ["LinkHref"] = "/console/sign-in", ["LinkText"] = "Sign in again",
            });
        }

        var flow = Open(keyRing, http.Request.Cookies[FlowCookie]);
        http.Response.Cookies.Delete(FlowCookie, FlowCookieOptions(http));
        var state = query["state"].ToString();
        if (flow is null || flow.Expires < time.GetUtcNow()
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(flow.State), Encoding.ASCII.GetBytes(state)))
        {
            return Failed(http, "This sign-in was not started here or took too long. Please sign in again.");
        }

        if (query.ContainsKey("error"))
        {
            return Failed(http, query["error"] == "access_denied" ? "Sign-in was refused." : "Sign-in did not complete.");
        }

        var tokens = await api.PostFormAsync(OAuthSetup.TokenPath,
        [
            new("grant_type", "authorization_code"), new("code", query["code"].ToString()), new("redirect_uri", RedirectUri(http)),
            new("client_id", ConsoleClient.ClientId), new("code_verifier", flow.Verifier),
        ], ct);
        if (tokens.Status is StatusCodes.Status502BadGateway or StatusCodes.Status504GatewayTimeout)
        {
            return Failed(http, tokens.Message, tokens.Status);
        }

        if (!tokens.IsSuccess || !await ConsoleSession.SignInAsync(http, tokens, time))
        {
            return Failed(http, "Sign-in did not complete. Please try again.");
        }

        return Results.Redirect(flow.ReturnUrl);
    }

    /// <summary>
    /// Ends the console session (refresh token revoked, cookie removed) and then the ScaiKey sign-in session through
    /// the end-session endpoint, named by the ID token so it needs no second confirmation.
    /// </summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, [FromServices] ConsoleApi api, [FromServices] ConsoleFormTokens forms, CancellationToken ct)
    {
        // Like every console POST: only the console's own form may sign the admin out.
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(ct) : null;
        if (!await forms.IsValidAsync(http, form))
        {
            return ConsolePages.Render<Components.MessagePage>(http, new()
            {
                ["Heading"] = "Form expired", ["Text"] = "This form has expired or did not come from the console.",
                ["LinkHref"] = "/console", ["LinkText"] = "Back to the console",
            }, StatusCodes.Status400BadRequest);
        }

        var (refresh, idToken) = await ConsoleSession.EndingTokensAsync(http);
        if (refresh is not null)
        {
            await api.PostFormAsync(OAuthSetup.RevokePath,
                [new("token", refresh), new("token_type_hint", "refresh_token"), new("client_id", ConsoleClient.ClientId)], ct);
        }

        await http.SignOutAsync(ConsoleSession.Scheme);
        var query = new Dictionary<string, string?> { ["client_id"] = ConsoleClient.ClientId, ["post_logout_redirect_uri"] = RedirectUri(http) };
        if (idToken is not null)
        {
            query["id_token_hint"] = idToken;
        }

        return Results.Redirect(QueryHelpers.AddQueryString(http.Request.PathBase + "/" + OAuthSetup.LogoutPath, query));
    }

    private static IResult Failed(HttpContext http, string text, int status = StatusCodes.Status400BadRequest) =>
        ConsolePages.Render<Components.MessagePage>(http, new()
        {
            ["Heading"] = "Sign-in failed", ["Text"] = text, ["LinkHref"] = "/console/sign-in", ["LinkText"] = "Sign in",
        }, status);

    private static CookieOptions FlowCookieOptions(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = http.RequestServices.GetRequiredService<PublicOrigin>().IsHttps || http.Request.IsHttps,
        Path = CallbackPath,
        IsEssential = true,
        MaxAge = FlowLifetime,
    };

    private static string Seal(KeyRing keyRing, Flow flow) =>
        WebEncoders.Base64UrlEncode(Encoding.ASCII.GetBytes(FlowSealer(keyRing).Seal(JsonSerializer.SerializeToUtf8Bytes(flow), FlowContext)));

    private static Flow? Open(KeyRing keyRing, string? cookie)
    {
        if (cookie is not { Length: > 0 and < 4096 })
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Flow>(FlowSealer(keyRing).Open(Encoding.ASCII.GetString(WebEncoders.Base64UrlDecode(cookie)), FlowContext));
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    private const string FlowContext = "scaikey:console-flow";

    private static KeyRing FlowSealer(KeyRing keyRing) => new(keyRing.DeriveKey(FlowContext));
}
