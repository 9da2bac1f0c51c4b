using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Infrastructure;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.Tenancy;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Federation.Saml;

/// <summary>
/// The SAML 2.0 service provider: SP metadata, the HTTP-Redirect AuthnRequest, the HTTP-POST ACS and the hand-over
/// to the browser that started the sign-in. Routes under /federation name the provider, never the tenant's slug.
/// Every refusal is a hosted page (no stack, no XML) and a federation.refused audit event with its reason.
/// </summary>
internal static class SamlEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var federation = app.MapGroup(FederationUrls.Prefix + "/{provider_id}/saml").AllowAnonymous().ExcludeFromDescription();
        federation.MapGet("/metadata", MetadataAsync);
        federation.MapPost("/acs", AcsAsync).DisableAntiforgery();
        federation.MapGet("/complete", CompleteAsync);
        app.MapGet("/t/{slug}" + FederationUrls.Prefix + "/{provider_id}/saml/start", StartAsync).AllowAnonymous().ExcludeFromDescription();
    }

    /// <summary>The page of the start route: the browser's way in, from the login page's button.</summary>
    public static string StartUrl(HttpContext http, string slug, string providerId, string? returnUrl) =>
        $"{http.Request.PathBase}/t/{slug}{FederationUrls.Prefix}/{providerId}/saml/start"
        + (returnUrl is null ? string.Empty : "?return_url=" + Uri.EscapeDataString(returnUrl));

    private static async Task<IResult> MetadataAsync([FromRoute(Name = "provider_id")] string providerId, HttpContext http, [FromServices] SamlProviders providers, CancellationToken ct)
    {
        var provider = await providers.FindAsync(providerId, ct);
        if (provider is null)
        {
            return Problems.NotFound("Identity provider not found.");
        }

        using var spKey = providers.SpKey(provider, out var unusable);
        if (unusable)
        {
            return Problems.Conflict("The provider's SP signing key (sp_private_key, sp_certificate) cannot be used; set both again.");
        }

        var xml = SamlMessages.Metadata(FederationUrls.SamlEntityId(http, provider.Id), FederationUrls.SamlAcs(http, provider.Id), spKey);
        return Results.Text(xml, "application/samlmetadata+xml", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> StartAsync(
        [FromRoute(Name = "slug")] string slug, [FromRoute(Name = "provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db,
        [FromServices] SamlProviders providers, [FromServices] SamlRequests requests, [FromServices] TimeProvider time, [FromServices] IOptions<FederationOptions> options, CancellationToken ct)
    {
        HostedPages.SetSecurityHeaders(http.Response);
        slug = slug.ToLowerInvariant();
        var tenant = slug.Length is 0 or > 63 ? null : await TenantLookup.FindBySlugAsync(db, slug, ct);
        if (tenant is null)
        {
            return HostedPages.Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(null, "Page not found", "There is no sign-in page at this address."));
        }

        var provider = await providers.FindAsync(providerId, ct);
        if (provider is null || provider.TenantId != tenant.Id)
        {
            return NotFound(tenant);
        }

        if (!provider.Enabled)
        {
            return await RefuseAsync(http, tenant, provider, FederationRefusals.ProviderDisabled, NotAvailable);
        }

        var returnUrl = http.Request.Query["return_url"].ToString();
        if (returnUrl.Length > 0 && !await HostedPages.AcceptReturnUrlAsync(http, db, tenant, returnUrl, ct))
        {
            return HostedPages.BadReturnUrl(tenant);
        }

        var (settings, error) = await providers.ResolveAsync(provider, ct);
        using var spKey = providers.SpKey(provider, out var unusable);
        if (settings is null || unusable)
        {
            return await RefuseAsync(http, tenant, provider, error ?? "sp_key_unusable",
                "Sign-in through this identity provider is not available at the moment. Try again later or contact your administrator.");
        }

        var binding = FederationBinding.Bind(http, options.Value.RequestLifetimeSeconds);
        var id = await requests.CreateAsync(FederationRequestKinds.SamlAuthn, tenant.Id, provider.Id,
            new SamlAuthnData(HostedPages.NullIfEmpty(returnUrl), binding), ct);
        return Results.Redirect(SamlMessages.RedirectUrl(settings, id, id, FederationUrls.SamlEntityId(http, provider.Id),
            FederationUrls.SamlAcs(http, provider.Id), time.UtcNow(), spKey));
    }

    private static async Task<IResult> AcsAsync(
        [FromRoute(Name = "provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] SamlProviders providers,
        [FromServices] SamlRequests requests, [FromServices] TimeProvider time, CancellationToken ct)
    {
        HostedPages.SetSecurityHeaders(http.Response);
        var (provider, tenant) = await FindAsync(db, providers, providerId, ct);
        if (provider is null || tenant is null)
        {
            return NotFound(tenant);
        }

        if (!provider.Enabled)
        {
            return await RefuseAsync(http, tenant, provider, FederationRefusals.ProviderDisabled, NotAvailable);
        }

        var form = await HostedPages.ReadFormAsync(http, ct);
        var (settings, error) = await providers.ResolveAsync(provider, ct);
        if (settings is null)
        {
            return await RefuseAsync(http, tenant, provider, error!,
                "Sign-in through this identity provider is not available at the moment. Try again later or contact your administrator.");
        }

        var expect = new SamlExpectations(settings.IdpEntityId, settings.Certificates, settings.WantAssertionsSigned,
            FederationUrls.SamlEntityId(http, provider.Id), FederationUrls.SamlAcs(http, provider.Id), time.UtcNow());
        var (assertion, refusal) = SamlResponseValidator.Validate(form?["SAMLResponse"].ToString() ?? string.Empty, expect);
        if (refusal is not null)
        {
            return await RefuseAsync(http, tenant, provider, refusal.Reason, refusal.Message);
        }

        // RelayState is unsigned; when the IdP sends it back it must name the request the assertion answers.
        var relayState = form!["RelayState"].ToString();
        if (relayState.Length > 0 && relayState != assertion!.RequestId)
        {
            return await RefuseAsync(http, tenant, provider, "relay_state", StartAgain);
        }

        var trustEmail = FederationProviderSettings.Read(provider.ConfigJson).TrustEmail;
        if (SamlClaims.Map(assertion!, settings, trustEmail, out var claimsRefusal) is not { } claims)
        {
            return await RefuseAsync(http, tenant, provider, claimsRefusal!,
                "The identity provider's answer does not name you in a way this service can use. Contact your administrator.");
        }

        string continueId;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            if (!await requests.RecordAssertionAsync(provider.Id, assertion!.AssertionId, assertion.ExpiresAt, ct))
            {
                await transaction.RollbackAsync(ct);
                return await RefuseAsync(http, tenant, provider, "replay", "This answer of the identity provider was used already. Please sign in again.");
            }

            var started = await requests.ConsumeAsync<SamlAuthnData>(assertion.RequestId, provider.Id, FederationRequestKinds.SamlAuthn, ct);
            if (started is null)
            {
                await transaction.RollbackAsync(ct);
                return await RefuseAsync(http, tenant, provider, "in_response_to",
                    "The identity provider's answer does not belong to a sign-in started here, or it was used already. Please sign in again.");
            }

            continueId = await requests.CreateAsync(SamlRequests.ContinueKind, tenant.Id, provider.Id,
                new SamlContinueData(claims, started.ReturnUrl, started.BindingHash), ct);
            await transaction.CommitAsync(ct);
        }

        return HostedPages.SeeOther($"{http.Request.PathBase}{FederationUrls.Prefix}/{provider.Id}/saml/complete?request={continueId}");
    }

    private static async Task<IResult> CompleteAsync(
        [FromRoute(Name = "provider_id")] string providerId, HttpContext http, [FromServices] ScaiKeyDbContext db, [FromServices] SamlProviders providers,
        [FromServices] SamlRequests requests, CancellationToken ct)
    {
        HostedPages.SetSecurityHeaders(http.Response);
        var (provider, tenant) = await FindAsync(db, providers, providerId, ct);
        if (provider is null || tenant is null)
        {
            return NotFound(tenant);
        }

        var data = await requests.ConsumeAsync<SamlContinueData>(http.Request.Query["request"].ToString(), provider.Id, SamlRequests.ContinueKind, ct);
        if (data is null)
        {
            return await RefuseAsync(http, tenant, provider, FederationRefusals.RequestExpired, StartAgain);
        }

        // The browser that started the sign-in, not one an attacker sent here with their own IdP answer.
        if (!FederationBinding.Matches(http, data.BindingHash))
        {
            return await RefuseAsync(http, tenant, provider, FederationRefusals.BrowserMismatch, StartAgain);
        }

        return await FederationPages.CompleteAsync(http, tenant, provider, data.Claims, data.ReturnUrl, data.BindingHash, ct);
    }

    private const string NotAvailable = "Sign-in through this identity provider is not available. Use another way to sign in or contact your administrator.";

    private const string StartAgain = "The sign-in through the identity provider could not be completed. Start again from the sign-in page.";

    private static async Task<(IdentityProvider? Provider, TenantContext? Tenant)> FindAsync(
        ScaiKeyDbContext db, SamlProviders providers, string providerId, CancellationToken ct)
    {
        var provider = await providers.FindAsync(providerId, ct);
        return (provider, provider is null ? null : await TenantLookup.FindAsync(db, provider.TenantId, ct));
    }

    private static IResult NotFound(TenantContext? tenant) =>
        HostedPages.Page(StatusCodes.Status404NotFound, HostedPageHtml.Message(tenant, "Page not found", "There is no sign-in page at this address."));

    /// <summary>Audits the refusal (federation.refused with its reason) and shows why, without any of the message's XML.</summary>
    private static async Task<IResult> RefuseAsync(HttpContext http, TenantContext tenant, IdentityProvider provider, string reason, string message)
    {
        var accounts = http.RequestServices.GetRequiredService<FederatedAccounts>();
        await accounts.RefuseAsync(tenant.Id, provider.Id, reason, http.RequestAborted);
        return HostedPages.Page(StatusCodes.Status400BadRequest, HostedPageHtml.Message(tenant, "Sign-in failed", message));
    }
}
