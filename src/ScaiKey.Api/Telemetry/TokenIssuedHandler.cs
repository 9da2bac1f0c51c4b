using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// Counts <c>scaikey.tokens.issued</c> where every grant ends: the token endpoint's response, when it carries an
/// access token. One place for all grants (client credentials, password, code, refresh, the MFA grant), and only
/// grant types OpenIddict accepted reach a successful response, so the tag's values stay the supported few.
/// </summary>
internal sealed class TokenIssuedHandler(ScaiKeyMetrics metrics) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<TokenIssuedHandler>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (string.IsNullOrEmpty(context.Error) && !string.IsNullOrEmpty(context.Response.AccessToken)
            && context.Request?.GrantType is { Length: > 0 } grantType)
        {
            metrics.TokenIssued(grantType);
        }

        return ValueTask.CompletedTask;
    }
}
