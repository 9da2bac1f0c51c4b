using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ScaiKey.Api.SignIn;
using ScaiKey.Api.OAuth;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>Top-level ScaiKey settings of the tokens: the issuer (also this server's public origin) and lifetimes.</summary>
internal sealed class TokenOptions
{
    public const string Section = "ScaiKey";
    public const int MaxAccessTokenMinutes = 1440;
    public const int MaxRefreshTokenDays = 365;

    /// <summary>Absolute http(s) URL such as https://id.example.com/; empty: the request's base URL.</summary>
    public string? Issuer { get; set; }

    public int AccessTokenMinutes { get; set; } = 60;

    public int RefreshTokenDays { get; set; } = 14;

    public Uri? IssuerUri => Uri.TryCreate(Issuer, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>Binds and checks the settings once, whichever of the web service's setups asks first.</summary>
    public static IServiceCollection AddTo(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<TokenOptions>)))
        {
            return services;
        }

        services.AddOptions<TokenOptions>().BindConfiguration(Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>());
        return services;
    }
}

internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Issuer)
            && options.IssuerUri is not { Scheme: "https" or "http" })
        {
            failures.Add($"{TokenOptions.Section}:Issuer must be an absolute http or https URL such as https://id.example.com/, not '{options.Issuer}'.");
        }

        if (options.AccessTokenMinutes is < 1 or > TokenOptions.MaxAccessTokenMinutes)
        {
            failures.Add($"{TokenOptions.Section}:AccessTokenMinutes must be between 1 and {TokenOptions.MaxAccessTokenMinutes} (was {options.AccessTokenMinutes}).");
        }

        if (options.RefreshTokenDays is < 1 or > TokenOptions.MaxRefreshTokenDays)
        {
            failures.Add($"{TokenOptions.Section}:RefreshTokenDays must be between 1 and {TokenOptions.MaxRefreshTokenDays} (was {options.RefreshTokenDays}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
