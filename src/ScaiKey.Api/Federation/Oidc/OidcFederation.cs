using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Oidc;

/// <summary>What an OIDC_AUTHORIZE request holds (sealed): the nonce and PKCE verifier of this flow, where it returns, its browser.</summary>
internal sealed record OidcAuthorizeData(string Nonce, string Verifier, string? ReturnUrl, string BindingHash);

/// <summary>
/// Sign-in through an upstream OpenID Connect provider: the authorization code flow with PKCE (S256), state (the
/// FederationRequest id, single use, bound to the browser) and nonce. The start route sits under the tenant's
/// hosted pages; the callback (the redirect_uri the provider's admin registers) names only the provider.
/// </summary>
internal static class OidcFederation
{
    /// <summary>GET /t/{slug}/federation/{provider_id}/oidc/start (inside the hosted pages' tenant filter).</summary>
    public static void MapStart(RouteGroupBuilder pages) => pages.MapGet("/federation/{provider_id}/oidc/start", StartAsync);

    /// <summary>GET /federation/{provider_id}/oidc/callback.</summary>
    public static void MapCallback(IEndpointRouteBuilder app) =>
        app.MapGet(FederationUrls.Prefix + "/{provider_id}/oidc/callback", CallbackAsync).AllowAnonymous().ExcludeFromDescription();

    internal readonly record struct OidcServices(
        [property: FromServices] ScaiKeyDbContext Db, [property: FromServices] KeyRing KeyRing, [property: FromServices] FederationRequests Requests, [property: FromServices] FederatedAccounts Accounts, [property: FromServices] OidcDiscovery Discovery,
        [property: FromServices] OidcTokens Tokens, [property: FromServices] IOptions<FederationOptions> Options);

    private static async Task<IResult> StartAsync([FromRoute(Name = "provider_id")] string providerId, HttpContext http,
        [AsParameters] OidcServices s, CancellationToken ct)
    {
        var tenant = HostedPages.Tenant(http);
        var provider = await FindAsync(s.Db, providerId, ct);
        if (provider is null || provider.TenantId != tenant.Id)
        {
            return HostedPages.Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(tenant, "Page not found", "There is no such identity provider."));
        }

        var returnUrl = HostedPages.NullIfEmpty(http.Request.Query["return_url"].ToString());
        if (returnUrl is not null && !await HostedPages.AcceptReturnUrlAsync(http, s.Db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        if (!provider.Enabled)
        {
            var refused = await s.Accounts.RefuseAsync(tenant.Id, provider.Id, FederationRefusals.ProviderDisabled, ct);
            return FederationPages.Refused(tenant, refused.Reason);
        }

        var settings = OidcSettings.Load(s.KeyRing, provider);
        string authorizationEndpoint;
        try
        {
            authorizationEndpoint = (await s.Discovery.GetAsync(settings.Issuer, ct)).AuthorizationEndpoint;
        }
        catch (InvalidOperationException)
        {
            await s.Accounts.RefuseAsync(tenant.Id, provider.Id, FederationRefusals.ProviderUnreachable, ct);
            return HostedPages.Page(StatusCodes.Status502BadGateway, HostedPageHtml.Message(tenant, "Sign-in not available",
                "The identity provider cannot be reached. Try again later or use another way to sign in."));
        }

        var verifier = SecretGenerator.Token(32);
        var data = new OidcAuthorizeData(SecretGenerator.Token(32), verifier, returnUrl,
            FederationBinding.Bind(http, s.Options.Value.RequestLifetimeSeconds));
        var state = await s.Requests.CreateAsync(FederationRequestKinds.OidcAuthorize, tenant.Id, provider.Id, data, ct);
        var url = QueryHelpers.AddQueryString(authorizationEndpoint, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = settings.ClientId,
            ["redirect_uri"] = FederationUrls.OidcCallback(http, provider.Id),
            ["scope"] = settings.Scopes,
            ["state"] = state,
            ["nonce"] = data.Nonce,
            ["code_challenge"] = SecretGenerator.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
        });
        return HostedPages.SeeOther(url);
    }

    private static async Task<IResult> CallbackAsync([FromRoute(Name = "provider_id")] string providerId, HttpContext http,
        [AsParameters] OidcServices s, CancellationToken ct)
    {
        HostedPages.SetSecurityHeaders(http.Response);
        var provider = await FindAsync(s.Db, providerId, ct);
        var tenant = provider is null ? null : await TenantLookup.FindAsync(s.Db, provider.TenantId, ct);
        if (provider is null || tenant is null)
        {
            return HostedPages.Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(null, "Page not found", "There is no such identity provider."));
        }

        async Task<IResult> RefuseAsync(string reason)
        {
            await s.Accounts.RefuseAsync(tenant.Id, provider.Id, reason, ct);
            return FederationPages.Refused(tenant, reason);
        }

        var query = http.Request.Query;
        var state = query["state"].ToString();
        var found = await s.Requests.FindAsync<OidcAuthorizeData>(state, FederationRequestKinds.OidcAuthorize, ct);
        if (found is not { } pending || pending.Request.IdentityProviderId != provider.Id)
        {
            return await RefuseAsync(found is null && await s.Requests.KnownAsync(state, ct) ? FederationRefusals.RequestExpired : FederationRefusals.BadState);
        }

        // RFC 9207: a provider that names itself in the response must be this one (no mix-up with another provider).
        if (query.TryGetValue("iss", out var iss) && iss.ToString() != OidcSettings.Load(s.KeyRing, provider).Issuer)
        {
            return await RefuseAsync(FederationRefusals.BadState);
        }

        // Only the browser that started the flow may finish it (no login CSRF with an attacker's own callback URL).
        if (!FederationBinding.Matches(http, pending.Data.BindingHash))
        {
            return await RefuseAsync(FederationRefusals.BrowserMismatch);
        }

        // Single use: a replayed callback (same state) finds it consumed.
        if (!await s.Requests.ConsumeAsync(pending.Request.Id, ct))
        {
            return await RefuseAsync(FederationRefusals.RequestExpired);
        }

        if (query.ContainsKey("error"))
        {
            return await RefuseAsync(FederationRefusals.AccessDenied);
        }

        if (!provider.Enabled)
        {
            return await RefuseAsync(FederationRefusals.ProviderDisabled);
        }

        var code = query["code"].ToString();
        if (code.Length is 0 or > 4096)
        {
            return await RefuseAsync(FederationRefusals.TokenExchangeFailed);
        }

        var settings = OidcSettings.Load(s.KeyRing, provider);
        var redeemed = await s.Tokens.RedeemAsync(settings, code, FederationUrls.OidcCallback(http, provider.Id), pending.Data, ct);
        if (redeemed.Claims is not { } claims)
        {
            return await RefuseAsync(redeemed.Refusal!);
        }

        return await FederationPages.CompleteAsync(http, tenant, provider, claims, pending.Data.ReturnUrl, pending.Data.BindingHash, ct);
    }

    private static Task<IdentityProvider?> FindAsync(ScaiKeyDbContext db, string providerId, CancellationToken ct) =>
        providerId.Length > 64
            ? Task.FromResult<IdentityProvider?>(null)
            : db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId && p.Type == "OIDC", ct);
}
