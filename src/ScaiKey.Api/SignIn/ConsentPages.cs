using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ScaiKey.Api.SignIn;

/// <summary>
/// /t/{slug}/consent: asks the signed-in user whether an application may have the scopes its authorization request
/// names. Allow remembers them (per user and application) and goes back to the authorization endpoint, which
/// validates the request all over again; Deny goes back with a marker that makes it answer access_denied to the
/// client's redirect URI, so OpenIddict (not this page) writes the error response.
/// </summary>
internal static class ConsentPages
{
    /// <summary>Added to the return URL on Deny; a client that sets it itself only refuses itself.</summary>
    public const string DecisionParameter = "scaikey_consent";
    public const string Denied = "denied";

    private const string Page = "consent";

    // At most this many distinct scopes are considered; OpenIddict allows only the registered ones anyway.
    private const int MaxScopes = 20;

    /// <summary>Registered in the /t/{slug} group of <see cref="HostedPages"/>, behind its tenant filter and headers.</summary>
    public static void MapConsentPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/" + Page, ConsentPageAsync);
        pages.MapPost("/" + Page, DecideAsync);
    }

    public static string Url(HttpContext http, string slug, string returnUrl) => HostedPages.PageUrl(http, slug, Page, returnUrl);

    /// <summary>The scopes in plain words, in a fixed order; "know who you are" always comes first.</summary>
    public static List<string> Describe(IEnumerable<string> scopes)
    {
        var lines = new List<string> { "Know who you are (your account identifier)" };
        foreach (var scope in scopes.Where(s => s != Scopes.OpenId).Order(StringComparer.Ordinal))
        {
            lines.Add(scope switch
            {
                Scopes.Email => "See your email address",
                Scopes.Profile => "See your name, language and time zone",
                Scopes.OfflineAccess => "Keep this access while you are not using the application",
                OpenIdConnect.OAuthSetup.GroupsScope => "See the names of the groups you belong to",
                ApplicationRules.AccountScope => "Manage your account: your profile, password and sign-in sessions",
                _ => $"Use the permission \u201c{scope}\u201d",
            });
        }

        return lines;
    }

    private sealed record Target(Application Application, SignedInUser User, List<string> Scopes);

    private static async Task<IResult> ConsentPageAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] IOptionsMonitor<OpenIddictServerOptions> server, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var returnUrl = http.Request.Query["return_url"].ToString();
        var (target, detour) = await ResolveAsync(http, db, server.CurrentValue, tenant, returnUrl, ct);
        return detour ?? HostedPages.Page(StatusCodes.Status200OK, Html(http, forms, tenant, target!, returnUrl, []));
    }

    private static async Task<IResult> DecideAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] IOptionsMonitor<OpenIddictServerOptions> server, [FromServices] AuditLog audit,
        [FromServices] TimeProvider time, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        if (await HostedPages.ReadFormAsync(http, ct) is not { } form)
        {
            return HostedPages.BadForm(tenant);
        }

        var returnUrl = form["return_url"].ToString();
        var (target, detour) = await ResolveAsync(http, db, server.CurrentValue, tenant, returnUrl, ct);
        if (detour is not null)
        {
            return detour;
        }

        if (!forms.IsValid(http, form))
        {
            return HostedPages.Page(StatusCodes.Status400BadRequest,
                Html(http, forms, tenant, target!, returnUrl, ["This form has expired. Please choose again."]));
        }

        switch (form["decision"].ToString())
        {
            case "allow":
                var (application, user) = (target!.Application, target.User);
                await ApplicationSignIn.RememberConsentAsync(db, application, user.UserId, target.Scopes, time.UtcNow(), ct);
                audit.RecordAs(PrincipalTypes.User, user.UserId, "user.consent_granted", "user", user.UserId, tenant.Id, ["consents"],
                    $"application {application.Id}: {string.Join(' ', target.Scopes)}");
                await db.SaveChangesAsync(ct);
                return HostedPages.SeeOther(returnUrl);
            case "deny":
                return HostedPages.SeeOther(returnUrl + "&" + DecisionParameter + "=" + Denied);
            default:
                return HostedPages.Page(StatusCodes.Status400BadRequest,
                    Html(http, forms, tenant, target!, returnUrl, ["Choose Allow or Deny."]));
        }
    }

    /// <summary>
    /// The application and scopes the return URL asks for, and the signed-in user; or where to go instead: the login
    /// page without a session, an error page for a return URL that is not an authorization request of this tenant.
    /// </summary>
    private static async Task<(Target? Target, IResult? Detour)> ResolveAsync(
        HttpContext http, ScaiKeyDbContext db, OpenIddictServerOptions server, TenantContext tenant, string returnUrl, CancellationToken ct)
    {
        if (returnUrl.Length == 0 || !await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return (null, HostedPages.BadReturnUrl(tenant));
        }

        var user = await SignInCookies.SignedInUserAsync(http, db, tenant.Id, ct);
        if (user is null)
        {
            return (null, HostedPages.SeeOther(HostedPages.LoginUrl(http, tenant.Slug, returnUrl)));
        }

        var query = QueryHelpers.ParseQuery(returnUrl[returnUrl.IndexOf('?', StringComparison.Ordinal)..]);
        var clientId = query.GetValueOrDefault(Parameters.ClientId).ToString();
        var application = clientId.Length == 0
            ? null
            : await db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == clientId && a.TenantId == tenant.Id, ct);
        if (application is null)
        {
            return (null, HostedPages.BadReturnUrl(tenant));
        }

        // Only scopes this server knows are shown and remembered; the authorization endpoint refuses the others.
        var scopes = query.GetValueOrDefault(Parameters.Scope).ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(server.Scopes.Contains).Distinct(StringComparer.Ordinal).Take(MaxScopes).ToList();
        return (new Target(application, user, scopes), null);
    }

    private static HostedView Html(HttpContext http, FormProtection forms, TenantContext tenant, Target target, string returnUrl, IReadOnlyList<string> errors) =>
        HostedPageHtml.Consent(HostedPages.Form(http, forms, tenant, Page, errors), target.Application.Name, target.User.Email,
            Describe(target.Scopes), returnUrl);
}
