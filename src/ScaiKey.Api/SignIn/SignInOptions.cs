using Microsoft.Extensions.Options;

namespace ScaiKey.Api.SignIn;

/// <summary>ScaiKey:SignIn: the hosted pages' session.</summary>
internal sealed class SignInOptions
{
    public const string Section = "ScaiKey:SignIn";
    public const int MaxCookieHours = 720;

    /// <summary>How long a browser stays signed in without entering the password again (absolute).</summary>
    public int CookieHours { get; set; } = SignInCookies.DefaultCookieHours;

    /// <summary>Whether the commit that starts a session waits for the disk (see <see cref="SignInStatements"/>).</summary>
    public bool DurableSessionCommits { get; set; }

    public static void AddTo(IServiceCollection services)
    {
        services.AddOptions<SignInOptions>().BindConfiguration(Section)
            .Validate(o => o.CookieHours is >= 1 and <= MaxCookieHours, $"{Section}:CookieHours must be between 1 and {MaxCookieHours}.")
            .ValidateOnStart();
    }
}
