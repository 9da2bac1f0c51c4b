using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Scim;

/// <summary>ScaiKey:Scim: the limits /scim/v2 advertises in ServiceProviderConfig and enforces.</summary>
internal sealed class ScimOptions
{
    public const string Section = "ScaiKey:Scim";

    /// <summary>Operations one /Bulk request may carry (more: 413 tooMany).</summary>
    public int BulkMaxOperations { get; set; } = 1000;

    /// <summary>Bytes one /Bulk request may carry (more: 413 tooLarge); at most the server's 1 MiB body limit.</summary>
    public int BulkMaxPayloadSize { get; set; } = Http.JsonBody.MaxBytes;

    /// <summary>Resources one list page returns at most (RFC 7644 filter.maxResults); a larger count is cut to it.</summary>
    public int MaxResults { get; set; } = 200;
}

/// <summary>A wrong limit stops the start with one line naming the key (issue 17, point 3).</summary>
internal sealed class ScimOptionsValidator : IValidateOptions<ScimOptions>
{
    public ValidateOptionsResult Validate(string? name, ScimOptions options)
    {
        var failures = new List<string>();
        if (options.BulkMaxOperations is < 1 or > 10_000)
        {
            failures.Add($"{ScimOptions.Section}:BulkMaxOperations must be between 1 and 10000 (was {options.BulkMaxOperations}).");
        }

        if (options.BulkMaxPayloadSize < 1024 || options.BulkMaxPayloadSize > Http.JsonBody.MaxBytes)
        {
            failures.Add($"{ScimOptions.Section}:BulkMaxPayloadSize must be between 1024 and {Http.JsonBody.MaxBytes} (was {options.BulkMaxPayloadSize}).");
        }

        if (options.MaxResults is < 1 or > 10_000)
        {
            failures.Add($"{ScimOptions.Section}:MaxResults must be between 1 and 10000 (was {options.MaxResults}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
