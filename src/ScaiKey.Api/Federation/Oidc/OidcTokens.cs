using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ScaiKey.Api.Federation.Oidc;

/// <summary>The upstream's answer to the code exchange: the account's claims, or why it was refused.</summary>
internal sealed record OidcTokenResult(UpstreamClaims? Claims, string? Refusal, string? Detail = null);

/// <summary>
/// The back channel of the code flow: the code (with the PKCE verifier) exchanged at the provider's token endpoint,
/// then the ID token validated by Microsoft.IdentityModel against the provider's discovery document and JWKS:
/// signature, issuer, audience (the client id), lifetime, and the nonce this flow sent.
/// </summary>
internal sealed class OidcTokens(OidcDiscovery discovery, ILogger<OidcTokens> logger)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<OidcTokenResult> RedeemAsync(OidcSettings settings, string code, string redirectUri, OidcAuthorizeData flow, CancellationToken ct)
    {
        OpenIdConnectConfiguration configuration;
        string? idToken;
        try
        {
            configuration = await discovery.GetAsync(settings.Issuer, ct);
            idToken = await ExchangeAsync(settings, configuration, code, redirectUri, flow.Verifier, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or JsonException)
        {
            logger.LogWarning("The token endpoint of OIDC issuer {Issuer} could not be used: {Error}", settings.Issuer, e.GetType().Name);
            return new OidcTokenResult(null, FederationRefusals.ProviderUnreachable);
        }

        if (idToken is null)
        {
            return new OidcTokenResult(null, FederationRefusals.TokenExchangeFailed);
        }

        var validation = await ValidateAsync(settings, configuration, idToken);
        if (validation.Exception is SecurityTokenSignatureKeyNotFoundException
            && await discovery.RefreshAsync(settings.Issuer, configuration, ct) is { } fresh)
        {
            // The provider rotated its keys since they were cached: once more with its current set.
            validation = await ValidateAsync(settings, fresh, idToken);
        }

        if (!validation.IsValid)
        {
            logger.LogWarning("An ID token of OIDC issuer {Issuer} was refused: {Error}", settings.Issuer, validation.Exception?.GetType().Name);
            return new OidcTokenResult(null, FederationRefusals.InvalidToken, validation.Exception?.GetType().Name);
        }

        var token = (JsonWebToken)validation.SecurityToken;
        if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || !FixedEquals(nonce, flow.Nonce))
        {
            return new OidcTokenResult(null, FederationRefusals.InvalidToken, "nonce");
        }

        // Several audiences: the token must say it was issued to this client (OpenID Connect Core 3.1.3.7, 4-5).
        var audiences = token.Audiences.ToList();
        if (audiences.Count > 1 && (!token.TryGetPayloadValue<string>("azp", out var azp) || azp != settings.ClientId))
        {
            return new OidcTokenResult(null, FederationRefusals.InvalidToken, "azp");
        }

        if (token.Subject is not { Length: > 0 and <= 255 } subject)
        {
            return new OidcTokenResult(null, FederationRefusals.InvalidToken, "sub");
        }

        var names = settings.Claims;
        return new OidcTokenResult(new UpstreamClaims(subject, Text(token, names.Email), Verified(token, names.EmailVerified),
            Text(token, names.GivenName), Text(token, names.FamilyName), Text(token, names.Name)), null);
    }

    private async Task<string?> ExchangeAsync(
        OidcSettings settings, OpenIdConnectConfiguration configuration, string code, string redirectUri, string verifier, CancellationToken ct)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = verifier,
        };
        // The code and the client secret travel only over https (found in the attacker's review).
        if (!Uri.TryCreate(configuration.TokenEndpoint, UriKind.Absolute, out var tokenEndpoint) || !discovery.IsAllowedEndpoint(tokenEndpoint))
        {
            logger.LogWarning("The token endpoint of OIDC issuer {Issuer} is not an https URL; the code was not sent", settings.Issuer);
            return null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        var methods = configuration.TokenEndpointAuthMethodsSupported;
        if (settings.ClientSecret is null)
        {
            form["client_id"] = settings.ClientId;
        }
        else if (methods.Count == 0 || methods.Contains("client_secret_basic"))
        {
            // RFC 6749 2.3.1: both parts form-encoded before Basic; the discovery default is client_secret_basic.
            var pair = Uri.EscapeDataString(settings.ClientId) + ":" + Uri.EscapeDataString(settings.ClientSecret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
        }
        else
        {
            form["client_id"] = settings.ClientId;
            form["client_secret"] = settings.ClientSecret;
        }

        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await discovery.Http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            // The OAuth error code only: the description may echo what was sent.
            var error = TryError(body);
            logger.LogWarning("The token endpoint of OIDC issuer {Issuer} answered {Status} {Error}", settings.Issuer, (int)response.StatusCode, error);
            return null;
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("id_token", out var idToken) && idToken.ValueKind == JsonValueKind.String ? idToken.GetString() : null;
    }

    private static Task<TokenValidationResult> ValidateAsync(OidcSettings settings, OpenIdConnectConfiguration configuration, string idToken) =>
        Handler.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            // The configured issuer, exactly: a discovery document naming another issuer does not widen it.
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,

            // Asymmetric signatures only: never "none", and never an HMAC whose key a token could name.
            ValidAlgorithms = AllowedAlgorithms,
            ClockSkew = TimeSpan.FromMinutes(2),
        });

    private static readonly string[] AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static string? Text(JsonWebToken token, string claim) =>
        token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    // A boolean, or the string "true" some providers send.
    private static bool Verified(JsonWebToken token, string claim) =>
        (token.TryGetPayloadValue<bool>(claim, out var flag) && flag)
        || (token.TryGetPayloadValue<string>(claim, out var text) && string.Equals(text, "true", StringComparison.OrdinalIgnoreCase));

    private static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static string TryError(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
                ? new string(e.GetString()!.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').Take(64).ToArray())
                : "unknown";
        }
        catch (JsonException)
        {
            return "not_json";
        }
    }
}
