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
        Ldap.LdapSetup.AddLdapFederation(services);
        return services;
    }

    public static IEndpointRouteBuilder MapFederation(this IEndpointRouteBuilder app)
    {
        Ldap.LdapSyncEndpoints.Map(app);
        return app;
    }
}
