using Microsoft.Extensions.Options;

namespace ScaiKey.Api.OAuth;

/// <summary>ScaiKey:SigningKeys: how stale an instance's copy of the token keys may get (see <see cref="SigningKeyStore"/>).</summary>
internal sealed class SigningKeyOptions
{
    public const string Section = "ScaiKey:SigningKeys";
    public const int MaxRefreshSeconds = 3600;

    public int RefreshSeconds { get; set; } = 30;

    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<SigningKeyOptions>().BindConfiguration(Section)
            .Validate(o => o.RefreshSeconds is >= 1 and <= MaxRefreshSeconds, $"{Section}:RefreshSeconds must be between 1 and {MaxRefreshSeconds}.")
            .ValidateOnStart();
}

/// <summary>ScaiKey:Bootstrap: the first platform admin, created when none exists (see <see cref="Bootstrap"/>).</summary>
internal sealed class BootstrapOptions
{
    public const string Section = "ScaiKey:Bootstrap";

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string? AdminEmail { get; set; }

    public string? AdminPassword { get; set; }

    // A half pair used to be ignored in silence, leaving the operator without the admin they asked for.
    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<BootstrapOptions>().BindConfiguration(Section)
            .Validate(o => string.IsNullOrEmpty(o.ClientId) == string.IsNullOrEmpty(o.ClientSecret),
                $"{Section}:ClientId and {Section}:ClientSecret must be set together or not at all.")
            .Validate(o => string.IsNullOrEmpty(o.AdminEmail) == string.IsNullOrEmpty(o.AdminPassword),
                $"{Section}:AdminEmail and {Section}:AdminPassword must be set together or not at all.")
            .ValidateOnStart();
}
