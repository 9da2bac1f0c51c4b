using Microsoft.Extensions.Options;

namespace ScaiKey.Api.AdminConsole;

/// <summary>The admin console's settings (<c>ScaiKey:Console</c>).</summary>
internal sealed class ConsoleOptions
{
    public const string Section = "ScaiKey:Console";

    /// <summary>
    /// Where the console reaches ScaiKey's own public API and token endpoint from the server (absolute http(s) URL).
    /// Empty: the issuer (<c>ScaiKey:Issuer</c>), else the first address the server listens on.
    /// </summary>
    public string? ApiBaseAddress { get; set; }

    /// <summary>Users per page of the users list (the API caps it at 100).</summary>
    public int PageSize { get; set; } = 25;
}

internal sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        if (options.ApiBaseAddress is { Length: > 0 } address
            && !(Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            return ValidateOptionsResult.Fail($"{ConsoleOptions.Section}:ApiBaseAddress must be an absolute http or https URL, not '{address}'.");
        }

        return options.PageSize is < 1 or > 100
            ? ValidateOptionsResult.Fail($"{ConsoleOptions.Section}:PageSize must be between 1 and 100.")
            : ValidateOptionsResult.Success;
    }
}
