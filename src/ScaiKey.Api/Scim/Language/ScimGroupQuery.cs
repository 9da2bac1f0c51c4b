using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Scim.Language.ScimQueryExpressions;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// Groups: id, displayName (the group's name, ASCII-folded), externalId, members / members.value / members[...]
/// (a user in group_members, or a group whose parent this is: value, type "User"/"Group"), meta.created,
/// meta.lastModified.
/// </summary>
internal static class ScimGroupQuery
{
    /// <summary>A predicate for groups; db lets it reach memberships in a subquery.</summary>
    public static bool TryTranslate(ScaiKeyDbContext db, ScimFilter filter, [NotNullWhen(true)] out Expression<Func<Group, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        var postgres = !db.Database.IsSqlite();
        return ScimQueryExpressions.TryTranslate<Group>(filter,
            (ScimFilter leaf, out Expression<Func<Group, bool>>? p, out ScimError? e) => TryLeaf(db, leaf, postgres, out p, out e), out predicate, out error);
    }

    private static bool TryLeaf(ScaiKeyDbContext db, ScimFilter leaf, bool postgres, [NotNullWhen(true)] out Expression<Func<Group, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        error = null;
        var type = ScimSchemas.GroupType;
        switch (leaf)
        {
            case ScimValuePath valuePath when IsCore(valuePath.Path, type, "members"):
                return TryMembers(db, valuePath.Filter, postgres, out predicate, out error);
            case ScimPresent present when IsCore(present.Path, type, "members") || IsCore(present.Path, type, "members", "value"):
                return TryMembers(db, new ScimPresent(new ScimAttrPath(null, "value", null)), postgres, out predicate, out error);
            case ScimCompare compare when IsCore(compare.Path, type, "members") || IsCore(compare.Path, type, "members", "value"):
                return TryMembers(db, compare with { Path = new ScimAttrPath(null, "value", null) }, postgres, out predicate, out error);
            case ScimPresent present:
                predicate = IsCore(present.Path, type, "id") || IsCore(present.Path, type, "displayName") || IsCore(present.Path, type, "meta")
                        || IsCore(present.Path, type, "meta", "created") || IsCore(present.Path, type, "meta", "lastModified")
                        ? Constant<Group>(true)
                    : IsCore(present.Path, type, "externalId") ? g => g.ExternalId != null && g.ExternalId != ""
                    : null;
                error = predicate is null ? NotFilterable(present.Path) : null;
                return predicate is not null;
            case ScimCompare compare:
                return TryCompare(compare, postgres, out predicate, out error);
            case ScimValuePath valuePath:
                error = NotFilterable(valuePath.Path);
                return false;
            default:
                error = ScimError.InvalidFilter("Unsupported filter.");
                return false;
        }
    }

    private static bool TryCompare(ScimCompare compare, bool postgres, [NotNullWhen(true)] out Expression<Func<Group, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        var type = ScimSchemas.GroupType;
        var path = compare.Path;
        var name = Name(path);
        if (IsCore(path, type, "meta", "created") || IsCore(path, type, "meta", "lastModified"))
        {
            if (!TryInstant(compare, name, out var instant, out error))
            {
                return false;
            }

            predicate = IsCore(path, type, "meta", "created")
                ? CompareInstant<Group>(g => g.CreatedAt, compare.Op, instant)
                : CompareInstant<Group>(g => g.UpdatedAt ?? g.CreatedAt, compare.Op, instant);
            return true;
        }

        Func<string, Expression<Func<Group, bool>>>? build =
            IsCore(path, type, "id") ? v => CompareString<Group>(g => g.Id, compare.Op, v, Casing.Exact, postgres)
            : IsCore(path, type, "externalId") ? v => CompareString<Group>(g => g.ExternalId, compare.Op, v, Casing.Exact, postgres)
            : IsCore(path, type, "displayName") ? v => CompareString<Group>(g => g.Name, compare.Op, v, Casing.AsciiFolded, postgres)
            : null;
        if (build is null)
        {
            error = NotFilterable(path);
            return false;
        }

        if (compare.Value is null)
        {
            predicate = compare.Op != ScimCompareOp.Eq ? null
                : IsCore(path, type, "externalId") ? g => g.ExternalId == null || g.ExternalId == ""
                : Constant<Group>(false);
            error = predicate is null ? ScimError.InvalidFilter($"'{name}' can only be compared with null by eq or ne.") : null;
            return predicate is not null;
        }

        if (!TryString(compare, name, out var value, out error))
        {
            return false;
        }

        predicate = build(value);
        return true;
    }

    // members[...]: some user membership or child group satisfies the element filter.
    private static bool TryMembers(ScaiKeyDbContext db, ScimFilter filter, bool postgres, [NotNullWhen(true)] out Expression<Func<Group, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        if (!ScimQueryExpressions.TryTranslate<GroupMember>(filter,
                (ScimFilter leaf, out Expression<Func<GroupMember, bool>>? p, out ScimError? e) =>
                    TryMemberElement(leaf, "User", m => m.UserId, postgres, out p, out e), out var user, out error)
            || !ScimQueryExpressions.TryTranslate<Group>(filter,
                (ScimFilter leaf, out Expression<Func<Group, bool>>? p, out ScimError? e) =>
                    TryMemberElement(leaf, "Group", c => c.Id, postgres, out p, out e), out var child, out error))
        {
            return false;
        }

        Expression<Func<Group, bool>> template = g =>
            db.GroupMembers.Any(m => m.GroupId == g.Id && m.TenantId == g.TenantId && Placeholder.User(m))
            || db.Groups.Any(c => c.ParentGroupId == g.Id && c.TenantId == g.TenantId && Placeholder.Child(c));
        predicate = (Expression<Func<Group, bool>>)new PlaceholderFiller(user, child).Visit(template);
        return true;
    }

    private static bool TryMemberElement<T>(ScimFilter leaf, string memberType, Expression<Func<T, string>> value, bool postgres,
        [NotNullWhen(true)] out Expression<Func<T, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        error = null;
        var path = leaf switch
        {
            ScimCompare compare => compare.Path,
            ScimPresent present => present.Path,
            _ => null,
        };
        if (path is null || path.Schema is not null || path.SubAttribute is not null)
        {
            error = ScimError.InvalidFilter("Value filters on members compare value or type.");
            return false;
        }

        if (string.Equals(path.Attribute, "type", StringComparison.OrdinalIgnoreCase))
        {
            predicate = Fixed<T>(leaf, new() { ["type"] = memberType }, ScimSchemas.GroupSchema.Attribute("members")!);
            return true;
        }

        if (!string.Equals(path.Attribute, "value", StringComparison.OrdinalIgnoreCase))
        {
            error = NotFilterable(new ScimAttrPath(null, "members", path.Attribute));
            return false;
        }

        if (leaf is ScimPresent)
        {
            predicate = Constant<T>(true);
            return true;
        }

        var comparison = (ScimCompare)leaf;
        if (comparison.Value is null)
        {
            predicate = Constant<T>(false);
            return comparison.Op == ScimCompareOp.Eq || Fail(out error);
        }

        if (!TryString(comparison, "members.value", out var text, out error))
        {
            return false;
        }

        predicate = CompareString(Expression.Lambda<Func<T, string?>>(value.Body, value.Parameters), comparison.Op, text, Casing.Exact, postgres);
        return true;
    }

    private static bool Fail(out ScimError? error)
    {
        error = ScimError.InvalidFilter("'members.value' can only be compared with null by eq or ne.");
        return false;
    }

    /// <summary>Orders groups by id, displayName, externalId or meta.created/lastModified, then id.</summary>
    public static bool TryOrder(IQueryable<Group> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<Group>? ordered, [NotNullWhen(false)] out ScimError? error) =>
        TryOrder(null, query, sortBy, descending, out ordered, out error);

    public static bool TryOrder(ScaiKeyDbContext? db, IQueryable<Group> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<Group>? ordered, [NotNullWhen(false)] out ScimError? error)
    {
        ordered = null;
        error = null;
        var postgres = db is not null && !db.Database.IsSqlite();
        if (string.IsNullOrWhiteSpace(sortBy))
        {
            ordered = descending ? query.OrderByDescending(g => g.Id) : query.OrderBy(g => g.Id);
            return true;
        }

        if (!ScimFilterParser.SplitAttrPath(sortBy.Trim(), out var path))
        {
            error = ScimError.InvalidPath($"sortBy '{sortBy}' is not an attribute name.");
            return false;
        }

        var type = ScimSchemas.GroupType;
        ordered =
            IsCore(path, type, "id") ? ScimSort.By(query, g => g.Id, descending, postgres)
            : IsCore(path, type, "displayName") ? ScimSort.Folded(query, g => g.Name, descending, postgres)
            : IsCore(path, type, "externalId") ? ScimSort.By(query, g => g.ExternalId, descending, postgres)
            : IsCore(path, type, "meta", "created") ? ScimSort.ByValue(query, g => g.CreatedAt, descending)
            : IsCore(path, type, "meta", "lastModified") ? ScimSort.ByValue(query, g => g.UpdatedAt ?? g.CreatedAt, descending)
            : null;
        error = ordered is null ? ScimError.InvalidValue($"Groups cannot be sorted by '{sortBy}'.") : null;
        return ordered is not null;
    }

    // Marks where the element predicates go in the membership subqueries; never executed.
    private static class Placeholder
    {
        public static bool User(GroupMember member) => throw new InvalidOperationException(member.GroupId);

        public static bool Child(Group group) => throw new InvalidOperationException(group.Id);
    }

    private sealed class PlaceholderFiller(Expression<Func<GroupMember, bool>> user, Expression<Func<Group, bool>> child) : ExpressionVisitor
    {
        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method.DeclaringType == typeof(Placeholder))
            {
                var filler = node.Method.Name == nameof(Placeholder.User) ? (LambdaExpression)user : child;
                return Replace(filler.Body, filler.Parameters[0], node.Arguments[0]);
            }

            return base.VisitMethodCall(node);
        }
    }
}
