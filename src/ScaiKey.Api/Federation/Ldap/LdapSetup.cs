using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>LDAP and Active Directory providers: the password check by bind, the directory sync and its worker.</summary>
internal static class LdapSetup
{
    public static void AddLdapFederation(IServiceCollection services)
    {
        services.AddOptions<LdapSyncOptions>().BindConfiguration(LdapSyncOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LdapSyncOptions>, LdapSyncOptionsValidator>();
        services.AddScoped<LdapSignIn>();
        services.AddScoped<LdapSync>();
        services.AddSingleton<LdapSyncWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<LdapSyncWorker>());
    }
}
