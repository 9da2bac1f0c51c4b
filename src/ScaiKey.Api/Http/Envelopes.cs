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

    public static ApiResponse<T> Of<T>(RequestInfo request, T data) => new(data, new MetaResponse(request.RequestId, DateTime.UtcNow));

    public static PaginatedResponse<T> Page<T>(HttpContext http, IReadOnlyList<T> data, PageRequest paging, int total) =>
        new(data, PaginationMeta.Create(paging.Page, paging.PerPage, total), MetaResponse.For(http));
}

/// <summary>The page and per_page query parameters every list shares.</summary>
internal readonly record struct PageRequest(int Page, int PerPage)
{
    public static readonly QueryParameter<int> PageParameter = Query.Int("page", 1, 1, int.MaxValue);
    public static readonly QueryParameter<int> PerPageParameter = Query.Int("per_page", 20, 1, 100);

    public int Offset => (int)Math.Min(int.MaxValue, ((long)Page - 1) * PerPage);

    public static PageRequest Read(HttpContext http, Errors.ValidationErrors errors) =>
        new(PageParameter.Read(http, errors), PerPageParameter.Read(http, errors));
}
