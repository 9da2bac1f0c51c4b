using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Scim;

/// <summary>Who a SCIM operation acts for and where its resources live: the token's tenant and /scim/v2's absolute URL.</summary>
internal sealed record ScimRequest(HttpContext Http, TenantContext Tenant, string BaseUrl)
{
    public static ScimRequest For(HttpContext http) =>
        new(http, ScimAuthenticationHandler.Tenant(http), $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{ScimSetup.BasePath}");
}

/// <summary>A list request (GET with query parameters, or POST /.search).</summary>
internal sealed record ScimListRequest(
    string? Filter, string? SortBy, bool Descending, int StartIndex, int Count, IReadOnlyList<string>? Attributes, IReadOnlyList<string>? ExcludedAttributes);
