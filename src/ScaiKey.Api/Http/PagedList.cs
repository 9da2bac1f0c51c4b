using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Http;

/// <summary>
/// The list shape most endpoints share: the exact total of the scoped rows, then one page of them in a stable order
/// (the caller's order ends with the id, so pages never overlap), projected in the database. The user lists have a
/// strategy of their own (Users/UserListQuery.cs); everything else pages through here.
/// </summary>
internal static class PagedList
{
    public static async Task<PaginatedResponse<TItem>> ReadAsync<TRow, TItem>(
        HttpContext http, IQueryable<TRow> rows, Func<IQueryable<TRow>, IOrderedQueryable<TRow>> order,
        Func<IQueryable<TRow>, IQueryable<TItem>> project, PageRequest paging, CancellationToken ct)
    {
        var total = await rows.CountAsync(ct);

        // A page past the end is empty whatever the order: no second query for it.
        var items = total > paging.Offset
            ? await project(order(rows).Skip(paging.Offset).Take(paging.PerPage)).ToListAsync(ct)
            : [];
        return Envelope.Page(http, items, paging, total);
    }

    /// <summary>As above, for items finished in memory (a JSON column parsed, a secret masked) after the database's projection.</summary>
    public static async Task<PaginatedResponse<TItem>> ReadAsync<TRow, TData, TItem>(
        HttpContext http, IQueryable<TRow> rows, Func<IQueryable<TRow>, IOrderedQueryable<TRow>> order,
        Func<IQueryable<TRow>, IQueryable<TData>> project, Func<TData, TItem> finish, PageRequest paging, CancellationToken ct)
    {
        var page = await ReadAsync(http, rows, order, project, paging, ct);
        return new PaginatedResponse<TItem>(page.Data.Select(finish).ToList(), page.Pagination, page.Meta);
    }
}
