using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Scim;

/// <summary>Who a SCIM operation acts for and where its resources live: the token's tenant and /scim/v2's absolute URL.</summary>
internal sealed record ScimRequest(Http.RequestInfo Request, TenantContext Tenant, string BaseUrl)
{
    public static ScimRequest For(HttpContext http)
    {
        var request = Http.RequestInfo.From(http);
        return new(request, ScimAuthenticationHandler.Tenant(http), request.Origin + ScimSetup.BasePath);
    }
}

/// <summary>A list request (GET with query parameters, or POST /.search).</summary>
internal sealed record ScimListRequest(
    string? Filter, string? SortBy, bool Descending, int StartIndex, int Count, IReadOnlyList<string>? Attributes, IReadOnlyList<string>? ExcludedAttributes);

/// <summary>A resource type's filter translation (<c>ScimUserQuery.TryTranslate</c>, <c>ScimGroupQuery.TryTranslate</c>).</summary>
internal delegate bool ScimTranslate<T>(Data.ScaiKeyDbContext db, Language.ScimFilter filter,
    out System.Linq.Expressions.Expression<Func<T, bool>>? predicate, out Language.ScimError? error);

/// <summary>A resource type's sortBy translation (<c>ScimUserQuery.TryOrder</c>, <c>ScimGroupQuery.TryOrder</c>).</summary>
internal delegate bool ScimOrder<T>(Data.ScaiKeyDbContext? db, IQueryable<T> query, string? sortBy, bool descending,
    out IQueryable<T>? ordered, out Language.ScimError? error);

internal static class ScimListQuery
{
    /// <summary>
    /// A list's rows: <paramref name="scoped"/> narrowed by the filter (for the total) and ordered by sortBy, or by id
    /// when none is given (sortOrder only applies with sortBy), identically on both databases.
    /// </summary>
    public static bool TryNarrow<T>(Data.ScaiKeyDbContext db, IQueryable<T> scoped, ScimListRequest list, ScimTranslate<T> translate, ScimOrder<T> order,
        out IQueryable<T> filtered, out IQueryable<T> ordered, out Language.ScimError? error)
    {
        filtered = scoped;
        ordered = scoped;
        if (!string.IsNullOrWhiteSpace(list.Filter))
        {
            if (!Language.ScimFilterParser.TryParse(list.Filter, out var filter, out error))
            {
                return false;
            }

            if (!translate(db, filter, out var predicate, out error))
            {
                return false;
            }

            filtered = scoped.Where(predicate!);
        }

        if (!order(db, filtered, list.SortBy, list.SortBy is not null && list.Descending, out var sorted, out error))
        {
            return false;
        }

        ordered = sorted!;
        return true;
    }
}
