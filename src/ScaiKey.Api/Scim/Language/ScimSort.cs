using System.Linq.Expressions;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// sortBy (RFC 7644 §3.4.2.3) as an ordered query: unassigned values last in either direction, then the id, so
/// pages never overlap. Strings sort in code-point order on both databases when the provider is known.
/// </summary>
internal static class ScimSort
{
    public static IQueryable<T> By<T>(IQueryable<T> query, Expression<Func<T, string?>> key, bool descending, bool postgres)
        where T : class
    {
        var body = postgres ? ScimQueryExpressions.InC(key.Body) : key.Body;
        return NullsLast(query, key, Expression.Lambda<Func<T, string?>>(body, key.Parameters), descending);
    }

    public static IQueryable<T> Folded<T>(IQueryable<T> query, Expression<Func<T, string?>> key, bool descending, bool postgres)
        where T : class
    {
        var folded = ScimQueryExpressions.FoldAscii(key.Body, postgres);
        var body = postgres ? ScimQueryExpressions.InC(folded) : folded;
        return NullsLast(query, key, Expression.Lambda<Func<T, string?>>(body, key.Parameters), descending);
    }

    public static IQueryable<T> ByValue<T>(IQueryable<T> query, Expression<Func<T, DateTime>> key, bool descending)
        where T : class =>
        ThenById(descending ? query.OrderByDescending(key) : query.OrderBy(key), descending);

    private static IQueryable<T> NullsLast<T>(IQueryable<T> query, Expression<Func<T, string?>> raw, Expression<Func<T, string?>> key, bool descending)
        where T : class
    {
        var isNull = Expression.Lambda<Func<T, bool>>(Expression.Equal(raw.Body, Expression.Constant(null, typeof(string))), raw.Parameters);
        var first = query.OrderBy(isNull);
        return ThenById(descending ? first.ThenByDescending(key) : first.ThenBy(key), descending);
    }

    private static IQueryable<T> ThenById<T>(IOrderedQueryable<T> query, bool descending)
    {
        var parameter = Expression.Parameter(typeof(T), "x");
        var id = Expression.Lambda<Func<T, string>>(Expression.Property(parameter, nameof(User.Id)), parameter);
        return descending ? query.ThenByDescending(id) : query.ThenBy(id);
    }
}
