using System.ComponentModel.DataAnnotations;

namespace ScaiKey.Api.Scim;

/// <summary>ScaiKey:Scim: the limits /scim/v2 advertises in ServiceProviderConfig and enforces.</summary>
internal sealed class ScimOptions
{
    public const string Section = "ScaiKey:Scim";

    /// <summary>Operations one /Bulk request may carry (more: 413 tooMany).</summary>
    [Range(1, 10_000)]
    public int BulkMaxOperations { get; set; } = 1000;

    /// <summary>Bytes one /Bulk request may carry (more: 413 tooLarge); at most the server's 1 MiB body limit.</summary>
    [Range(1024, Http.JsonBody.MaxBytes)]
    public int BulkMaxPayloadSize { get; set; } = Http.JsonBody.MaxBytes;

    /// <summary>Resources one list page returns at most (RFC 7644 filter.maxResults); a larger count is cut to it.</summary>
    [Range(1, 10_000)]
    public int MaxResults { get; set; } = 200;
}
