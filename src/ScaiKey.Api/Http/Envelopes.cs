using System.ComponentModel;
using ScaiKey.Api.OpenApi;

namespace ScaiKey.Api.Http;

[Description("Metadata included in API responses.")]
internal sealed record MetaResponse(
    [property: ApiOptional] string? RequestId,
    [property: ApiOptional] DateTime Timestamp)
{
    public static MetaResponse For(HttpContext http) => new(http.TraceIdentifier, DateTime.UtcNow);
}

internal sealed record ApiResponse<T>(T Data, [property: ApiOptional] MetaResponse Meta);

[Description("Pagination metadata.")]
internal sealed record PaginationMeta(int Page, int PerPage, int TotalItems, int TotalPages)
{
    public static PaginationMeta Create(int page, int perPage, int totalItems) =>
        new(page, perPage, totalItems, (int)Math.Ceiling(totalItems / (double)perPage));
}

internal sealed record PaginatedResponse<T>(IReadOnlyList<T> Data, PaginationMeta Pagination, [property: ApiOptional] MetaResponse Meta);

internal static class Envelope
{
    public static ApiResponse<T> Of<T>(HttpContext http, T data) => new(data, MetaResponse.For(http));

    public static PaginatedResponse<T> Page<T>(HttpContext http, IReadOnlyList<T> data, int page, int perPage, int total) =>
        new(data, PaginationMeta.Create(page, perPage, total), MetaResponse.For(http));
}
