using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0). OpenIddict validates the request first: an
/// id_token_hint must be a token this server issued, a post_logout_redirect_uri must be registered. A request whose
/// hint names the browser's session signs out at once; any other request that would end a live session asks the
/// user first (section 2), with a form protected like the hosted pages' forms, so a bare link or an image on
/// another site cannot sign anyone out.
/// </summary>
internal static class LogoutEndpoints
{
    /// <summary>The hidden field that marks a POST as the answer from the confirmation page.</summary>
    public const string ConfirmField = "confirm";

    public static void MapLogoutEndpoint(this IEndpointRouteBuilder app) =>
        app.MapMethods("/" + OAuthSetup.LogoutPath, [HttpMethods.Get, HttpMethods.Post], LogoutAsync)
            .AllowAnonymous()
            .ExcludeFromDescription();

    private sealed record SessionRef(string UserId, string SessionId);

    /// <summary>
    /// Ends the browser's sign-in session once confirmed (or named by a valid id_token_hint): the session row and every
    /// token grant made from it are revoked, so the applications' access and refresh tokens from it stop working too,
    /// and the cookie is removed. OpenIddict then redirects to the validated post_logout_redirect_uri; without one,
    /// the browser gets a "signed out" page.
    /// </summary>
    private static async Task<IResult> LogoutAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] RevocationCache revocations, [FromServices] TimeProvider time, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        var cookie = await SignInCookies.ReadAsync(http);
        var signedIn = cookie is null ? null : await SignInCookies.SignedInUserAsync(http, db, cookie.TenantId, ct);

        // The id_token_hint, validated by OpenIddict; its sid names the session the application knows of.
        var hint = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var hinted = hint?.GetClaim(Claims.Subject) is { } hintUser && hint.GetClaim(ScaiKeyClaims.SessionId) is { } hintSession
            ? new SessionRef(hintUser, hintSession)
            : null;

        // Without a live session in the browser there is nothing a forged request could end but the hint's session
        // (a POST from the application's site arrives without the Lax cookie); with one, only a hint naming exactly
        // that session speaks for the user. Anything else needs the user's own answer.
        var hintNamesTheSession = hinted is not null
            && (signedIn is null || (signedIn.SessionId == hinted.SessionId && signedIn.UserId == hinted.UserId));
        if (signedIn is not null && !hintNamesTheSession)
        {
            var answer = await ConfirmationFormAsync(http, ct);
            if (answer is null)
            {
                return await ConfirmationPageAsync(http, db, forms, request, hint, cookie!.TenantId, [], StatusCodes.Status200OK, ct);
            }

            if (!forms.IsValid(http, answer))
            {
                return await ConfirmationPageAsync(http, db, forms, request, hint, cookie!.TenantId,
                    ["This form has expired. Please confirm again."], StatusCodes.Status400BadRequest, ct);
            }
        }

        var ending = new List<SessionRef>();
        if (signedIn is not null)
        {
            ending.Add(new SessionRef(signedIn.UserId, signedIn.SessionId));
        }

        if (hinted is not null && !ending.Contains(hinted))
        {
            ending.Add(hinted);
        }

        await EndSessionsAsync(db, ending, time.UtcNow(), ct);

        // After the commit: a request in between must not cache "still active" again.
        foreach (var userId in ending.Select(s => s.UserId).Distinct(StringComparer.Ordinal))
        {
            revocations.EvictUser(userId);
        }

        if (cookie is not null)
        {
            await SignInCookies.SignOutAsync(http);
        }

        if (request.PostLogoutRedirectUri is not null)
        {
            return Results.SignOut(properties: null, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var tenant = cookie is null ? null : await TenantLookup.FindAsync(db, cookie.TenantId, ct);
        HostedPages.SetSecurityHeaders(http.Response);
        return HostedPages.Page(StatusCodes.Status200OK,
            HostedPageHtml.Message(tenant, "Signed out", "You have been signed out. You can close this window."));
    }

    private static async Task EndSessionsAsync(ScaiKeyDbContext db, IReadOnlyList<SessionRef> sessions, DateTime now, CancellationToken ct)
    {
        if (sessions.Count == 0)
        {
            return;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var (userId, sessionId) in sessions)
        {
            await db.UserSessions.Where(s => s.Id == sessionId && s.UserId == userId && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), ct);
            await db.TokenGrants.Where(g => g.SessionId == sessionId && g.UserId == userId && g.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, "signed_out"), ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>The confirmation page's POST (its hidden confirm field), or null for any other request.</summary>
    private static async Task<IFormCollection?> ConfirmationFormAsync(HttpContext http, CancellationToken ct)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            var form = await http.Request.ReadFormAsync(ct);
            return form.ContainsKey(ConfirmField) ? form : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>
    /// "Sign out?", naming the tenant and, when known, the application that asks. The form posts the request's own
    /// parameters back to this endpoint, so OpenIddict validates them again and the redirect afterwards is the same.
    /// </summary>
    private static async Task<IResult> ConfirmationPageAsync(
        HttpContext http, ScaiKeyDbContext db, FormProtection forms, OpenIddictRequest request, ClaimsPrincipal? hint, string tenantId,
        IReadOnlyList<string> errors, int status, CancellationToken ct)
    {
        var tenant = await TenantLookup.FindAsync(db, tenantId, ct);
        var clientId = request.ClientId ?? hint?.GetAudiences().FirstOrDefault();
        var application = clientId is null ? null : await db.Applications.AsNoTracking()
            .Where(a => a.ClientId == clientId && a.TenantId == tenantId).Select(a => a.Name).FirstOrDefaultAsync(ct);

        var parameters = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in request.GetParameters())
        {
            if (name is not (ConfirmField or FormProtection.FieldName) && (string?)value is { } text)
            {
                parameters.Add(new(name, text));
            }
        }

        var action = http.Request.PathBase + "/" + OAuthSetup.LogoutPath;
        var token = forms.IssueToken(http, action);
        HostedPages.SetSecurityHeaders(http.Response);
        AllowRedirectAfterPost(http, request.PostLogoutRedirectUri);
        return HostedPages.Page(status, HostedPageHtml.LogoutConfirmation(tenant, application, action, token, parameters, errors));
    }

    /// <summary>
    /// The form posts here and OpenIddict answers with a redirect to the application; browsers apply form-action to
    /// that redirect too, so the (validated) post-logout address's origin joins 'self', as on the login page.
    /// </summary>
    private static void AllowRedirectAfterPost(HttpContext http, string? postLogoutRedirectUri)
    {
        if (postLogoutRedirectUri is not null && Uri.TryCreate(postLogoutRedirectUri, UriKind.Absolute, out var uri))
        {
            var source = uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority) : uri.Scheme + ":";
            http.Response.Headers.ContentSecurityPolicy = HostedPages.ContentSecurityPolicy + " " + source;
        }
    }
}
