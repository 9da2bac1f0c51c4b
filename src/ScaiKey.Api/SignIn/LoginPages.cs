using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Applications;
using ScaiKey.Api.Audit;
using ScaiKey.Api.Email;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.Mfa.Passkeys;
using ScaiKey.Api.OAuth;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.OpenIdConnect;
using static ScaiKey.Api.SignIn.HostedPages;

namespace ScaiKey.Api.SignIn;

/// <summary>The login page: email and password, home-realm discovery, passkey and federation links.</summary>
internal static class LoginPages
{
    public static void MapLoginPages(this RouteGroupBuilder pages)
    {
        pages.MapGet("/login", LoginPageAsync);
        pages.MapPost("/login", LoginAsync);
    }

    private static async Task<IResult> LoginPageAsync(HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, CancellationToken ct)
    {
        var tenant = Tenant(http);
        var returnUrl = http.Request.Query["return_url"].ToString();
        if (returnUrl.Length > 0 && !await AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return BadReturnUrl(tenant);
        }

        var loginHint = returnUrl.Length == 0 ? null : LoginHint(returnUrl);
        var providers = await Federation.FederationLogin.ProvidersAsync(db, tenant.Id, ct);
        Federation.FederationLogin.AllowDiscoveryRedirects(http, providers);
        return Page(StatusCodes.Status200OK,
            HostedPageHtml.Login(Form(http, forms, tenant, "login", []), loginHint, NullIfEmpty(returnUrl), PasskeyEndpoints.OfferSignIn(http, tenant),
                Federation.FederationLogin.Links(http, tenant, providers, NullIfEmpty(returnUrl))));
    }

    private static async Task<IResult> LoginAsync(
        HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] FormProtection forms, [FromServices] SignInService signIn, CancellationToken ct)
    {
        var tenant = Tenant(http);
        if (await ReadFormAsync(http, ct) is not { } form)
        {
            return BadForm(tenant);
        }

        var returnUrl = form["return_url"].ToString();
        if (returnUrl.Length > 0 && !await AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return BadReturnUrl(tenant);
        }

        var email = form["email"].ToString().Trim();
        var password = form["password"].ToString();
        var providers = await Federation.FederationLogin.ProvidersAsync(db, tenant.Id, ct);
        Federation.FederationLogin.AllowDiscoveryRedirects(http, providers);
        IResult Again(int status, string error) =>
            Page(status, HostedPageHtml.Login(Form(http, forms, tenant, "login", [error]), email, NullIfEmpty(returnUrl), PasskeyEndpoints.OfferSignIn(http, tenant),
                Federation.FederationLogin.Links(http, tenant, providers, NullIfEmpty(returnUrl))));

        if (!forms.IsValid(http, form))
        {
            return Again(StatusCodes.Status400BadRequest, "This form has expired. Please sign in again.");
        }

        // Home-realm discovery: the email's domain belongs to an identity provider, which signs the user in instead.
        if (email.Length > 0 && Federation.FederationLogin.ForEmail(providers, email) is { } home)
        {
            return SeeOther(Federation.FederationLogin.StartUrl(http, tenant, home, NullIfEmpty(returnUrl)));
        }

        if (email.Length == 0 || password.Length == 0)
        {
            return Again(StatusCodes.Status200OK, "Enter your email address and password.");
        }

        // The abuse limits (failures per client IP and per account, shared with the password grant) are consulted
        // inside the check, before the hash; a full hashing queue answers at once too.
        var result = await signIn.CheckPasswordAsync(tenant, email, password, ct);
        if (result.Outcome is SignInOutcome.Limited or SignInOutcome.Busy)
        {
            Problems.SetRetryAfter(http.Response, result.RetryAfter);
            var seconds = http.Response.Headers.RetryAfter.ToString();
            return result.Outcome == SignInOutcome.Limited
                ? Again(StatusCodes.Status429TooManyRequests, $"Too many sign-in attempts. Wait {seconds} seconds, then try again.")
                : Again(StatusCodes.Status503ServiceUnavailable, $"The service is busy. Wait {seconds} seconds, then try again.");
        }

        if (result.Outcome != SignInOutcome.Success)
        {
            // The same page for an unknown email, a wrong password and a locked, disabled or inactive account.
            return Again(StatusCodes.Status200OK, result.Describe());
        }

        return await FinishSignInAsync(http, tenant, result, NullIfEmpty(returnUrl), "pwd",
            () => Again(StatusCodes.Status200OK, new SignInResult(SignInOutcome.InvalidCredentials).Describe()), ct);
    }

    /// <summary>The login hint an application passed in its authorization request, to fill in the email field.</summary>
    private static string? LoginHint(string returnUrl)
    {
        // An account page return URL has no query (and no hint).
        var start = returnUrl.IndexOf('?', StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(returnUrl[start..]);
        var hint = query.TryGetValue(OpenIddict.Abstractions.OpenIddictConstants.Parameters.LoginHint, out var values) ? values.ToString() : null;
        return hint is { Length: > 0 and <= 320 } ? hint : null;
    }
}
