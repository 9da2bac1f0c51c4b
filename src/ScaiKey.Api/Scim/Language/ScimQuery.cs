using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Scim.Language;

// STUB (contract between the SCIM helpers): filters and sortBy translated into EF Core queries, so lists and the
// "userName eq" check before create run in the database on SQLite and PostgreSQL alike. The caller adds the tenant
// and soft-delete filters and paging.

internal static class ScimUserQuery
{
    /// <summary>A predicate for users; invalidFilter for attributes ScaiKey cannot filter on (the detail names them).</summary>
    public static bool TryTranslate(ScaiKeyDbContext db, ScimFilter filter, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();

    /// <summary>Orders by a SCIM attribute (sortBy), then by id so pages are stable; invalidValue/invalidPath if it cannot sort on it.</summary>
    public static bool TryOrder(IQueryable<User> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<User>? ordered, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();
}

internal static class ScimGroupQuery
{
    /// <summary>A predicate for groups; db lets it reach memberships in a subquery.</summary>
    /// <remarks>A predicate for groups (displayName, externalId, id, members.value, meta.*).</remarks>
    public static bool TryTranslate(ScaiKeyDbContext db, ScimFilter filter, [NotNullWhen(true)] out Expression<Func<Group, bool>>? predicate, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();

    public static bool TryOrder(IQueryable<Group> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<Group>? ordered, [NotNullWhen(false)] out ScimError? error) =>
        throw new NotImplementedException();
}
