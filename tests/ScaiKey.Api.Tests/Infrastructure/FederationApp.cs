using Microsoft.AspNetCore.Hosting;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// The service as the federation tests need it: the peers (oidc-provider, the samlify IdP) listen on plain http on
/// loopback, which production refuses (ScaiKey:Federation:AllowHttpProviders is off by default).
/// </summary>
public sealed class FederationApp : ScaiKeyApp
{
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("ScaiKey:Federation:AllowHttpProviders", "true");
}
