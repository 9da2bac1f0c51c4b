namespace ScaiKey.Api.Federation;

/// <summary>
/// Sign-in through the identity providers a tenant registers: upstream OpenID Connect (Federation/Oidc), LDAP and
/// Active Directory (Federation/Ldap), SAML 2.0 (Federation/Saml). Each protocol registers its services and routes
/// here; what they share (just-in-time provisioning, linking, audit) lives in this folder.
/// </summary>
internal static class FederationSetup
{
    public static IServiceCollection AddScaiKeyFederation(this IServiceCollection services)
    {
        services.AddOptions<FederationOptions>().BindConfiguration(FederationOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<FederationOptions>, FederationOptionsValidator>();
        services.AddScoped<FederatedAccounts>();
        services.AddScoped<FederationRequests>();
        services.AddSingleton<Oidc.OidcDiscovery>();
        services.AddScoped<Oidc.OidcTokens>();
        services.AddScoped<Saml.SamlProviders>();
        services.AddScoped<Saml.SamlRequests>();
        services.AddHttpClient(Saml.SamlProviders.MetadataClient).ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false });
        Ldap.LdapSetup.AddLdapFederation(services);
        return services;
    }

    public static IEndpointRouteBuilder MapFederation(this IEndpointRouteBuilder app)
    {
        Oidc.OidcFederation.MapCallback(app);
        Saml.SamlEndpoints.Map(app);
        Ldap.LdapSyncEndpoints.Map(app);
        return app;
    }

    /// <summary>The federation pages under the tenant's hosted pages (/t/{slug}/...), which resolve the tenant first.</summary>
    public static void MapHostedFederation(RouteGroupBuilder pages)
    {
        pages.MapFederationLinkPages();
        Oidc.OidcFederation.MapStart(pages);
    }
}
