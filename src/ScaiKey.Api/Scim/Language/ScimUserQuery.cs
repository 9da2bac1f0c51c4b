using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Users;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Scim.Language.ScimQueryExpressions;

namespace ScaiKey.Api.Scim.Language;

// Filters and sortBy translated into EF Core queries, so lists and the "userName eq" check before create run in the
// database on SQLite and PostgreSQL alike. The caller adds the tenant and soft-delete filters and paging.

/// <summary>
/// Users: id, userName, externalId, displayName, name.givenName, name.familyName, emails (value, type, primary;
/// the ScaiKey email, type "work", primary), active, meta.created, meta.lastModified. userName is the username, or
/// the email for users without one. userName and emails compare through their normalized columns; displayName and
/// the names fold ASCII letters on both databases (see <see cref="ScimQueryExpressions.FoldAscii(Expression, bool)"/>).
/// </summary>
internal static class ScimUserQuery
{
    /// <summary>SCIM "active": every status but DISABLED (a locked or pending user is still provisioned).</summary>
    public static readonly Expression<Func<User, bool>> Active = u => u.Status != UserStatus.Disabled;

    // The ScaiKey email rendered as the one element of "emails".
    private static readonly JsonObject EmailElement = new() { ["type"] = "work", ["primary"] = true };

    /// <summary>A predicate for users; invalidFilter for attributes ScaiKey cannot filter on (the detail names them).</summary>
    public static bool TryTranslate(ScaiKeyDbContext db, ScimFilter filter, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        var postgres = !db.Database.IsSqlite();
        return ScimQueryExpressions.TryTranslate<User>(filter, (ScimFilter leaf, out Expression<Func<User, bool>>? p, out ScimError? e) => TryLeaf(leaf, postgres, out p, out e),
            out predicate, out error);
    }

    private static bool TryLeaf(ScimFilter leaf, bool postgres, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        error = null;
        var type = ScimSchemas.UserType;
        switch (leaf)
        {
            case ScimValuePath valuePath when IsCore(valuePath.Path, type, "emails"):
                return ScimQueryExpressions.TryTranslate<User>(valuePath.Filter,
                    (ScimFilter inner, out Expression<Func<User, bool>>? p, out ScimError? e) => TryEmailElement(inner, postgres, out p, out e),
                    out predicate, out error);
            case ScimValuePath valuePath:
                error = NotFilterable(valuePath.Path);
                return false;
            case ScimPresent present:
                return TryPresent(present.Path, out predicate, out error);
            case ScimCompare compare:
                return TryCompare(compare, postgres, out predicate, out error);
            default:
                error = ScimError.InvalidFilter("Unsupported filter.");
                return false;
        }
    }

    private static bool TryPresent(ScimAttrPath path, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        var type = ScimSchemas.UserType;
        error = null;
        predicate =
            IsCore(path, type, "id") || IsCore(path, type, "userName") || IsCore(path, type, "active") || IsCore(path, type, "emails")
                || IsCore(path, type, "emails", "value") || IsCore(path, type, "emails", "type") || IsCore(path, type, "emails", "primary")
                || IsCore(path, type, "meta") || IsCore(path, type, "meta", "created") || IsCore(path, type, "meta", "lastModified")
                ? Constant<User>(true)
            : IsCore(path, type, "externalId") ? u => u.ExternalId != null && u.ExternalId != ""
            : IsCore(path, type, "displayName") ? u => u.DisplayName != null && u.DisplayName != ""
            : IsCore(path, type, "name") ? u => (u.FirstName != null && u.FirstName != "") || (u.LastName != null && u.LastName != "")
            : IsCore(path, type, "name", "givenName") ? u => u.FirstName != null && u.FirstName != ""
            : IsCore(path, type, "name", "familyName") ? u => u.LastName != null && u.LastName != ""
            : null;
        if (predicate is null)
        {
            error = NotFilterable(path);
            return false;
        }

        return true;
    }

    private static bool TryCompare(ScimCompare compare, bool postgres, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        var type = ScimSchemas.UserType;
        var path = compare.Path;
        var name = Name(path);
        if (IsCore(path, type, "active"))
        {
            var flag = ScimJson.AsBoolean(compare.Value) ?? (bool.TryParse(ScimJson.AsString(compare.Value), out var parsed) ? parsed : null);
            if (compare.Op != ScimCompareOp.Eq || flag is null)
            {
                error = ScimError.InvalidFilter("'active' is a boolean: use eq true, eq false, ne or pr.");
                return false;
            }

            predicate = flag.Value ? Active : Not(Active);
            error = null;
            return true;
        }

        if (IsCore(path, type, "meta", "created") || IsCore(path, type, "meta", "lastModified"))
        {
            if (!TryInstant(compare, name, out var instant, out error))
            {
                return false;
            }

            predicate = IsCore(path, type, "meta", "created")
                ? CompareInstant<User>(u => u.CreatedAt, compare.Op, instant)
                : CompareInstant<User>(u => u.UpdatedAt ?? u.CreatedAt, compare.Op, instant);
            return true;
        }

        if (IsCore(path, type, "emails", "type") || IsCore(path, type, "emails", "primary"))
        {
            // The one email is type "work" and primary, for every user.
            predicate = Fixed<User>(compare with { Path = new ScimAttrPath(null, path.SubAttribute!, null) }, EmailElement, type.Resolve(path with { SubAttribute = null })!);
            error = null;
            return true;
        }

        Func<string, Expression<Func<User, bool>>>? build =
            IsCore(path, type, "id") ? v => CompareString<User>(u => u.Id, compare.Op, v, Casing.Exact, postgres)
            : IsCore(path, type, "externalId") ? v => CompareString<User>(u => u.ExternalId, compare.Op, v, Casing.Exact, postgres)
            : IsCore(path, type, "userName") ? v => UserName(compare.Op, v, postgres)
            : IsCore(path, type, "displayName") ? v => CompareString<User>(u => u.DisplayName, compare.Op, v, Casing.AsciiFolded, postgres)
            : IsCore(path, type, "name", "givenName") ? v => CompareString<User>(u => u.FirstName, compare.Op, v, Casing.AsciiFolded, postgres)
            : IsCore(path, type, "name", "familyName") ? v => CompareString<User>(u => u.LastName, compare.Op, v, Casing.AsciiFolded, postgres)
            : IsCore(path, type, "emails") || IsCore(path, type, "emails", "value") ? v => Email(compare.Op, v, postgres)
            : null;
        if (build is null)
        {
            error = NotFilterable(path);
            return false;
        }

        if (compare.Value is null)
        {
            // "eq null": unassigned. userName, id and the email always have a value.
            predicate = IsCore(path, type, "externalId") ? u => u.ExternalId == null || u.ExternalId == ""
                : IsCore(path, type, "displayName") ? u => u.DisplayName == null || u.DisplayName == ""
                : IsCore(path, type, "name", "givenName") ? u => u.FirstName == null || u.FirstName == ""
                : IsCore(path, type, "name", "familyName") ? u => u.LastName == null || u.LastName == ""
                : Constant<User>(false);
            if (compare.Op != ScimCompareOp.Eq)
            {
                error = ScimError.InvalidFilter($"'{name}' can only be compared with null by eq or ne.");
                predicate = null;
                return false;
            }

            error = null;
            return true;
        }

        if (!TryString(compare, name, out var value, out error))
        {
            return false;
        }

        predicate = build(value);
        return true;
    }

    // The email element inside emails[...]: value is the email, type is "work", primary is true.
    private static bool TryEmailElement(ScimFilter leaf, bool postgres, [NotNullWhen(true)] out Expression<Func<User, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        error = null;
        var emails = ScimSchemas.UserSchema.Attribute("emails")!;
        var path = leaf switch
        {
            ScimCompare compare => compare.Path,
            ScimPresent present => present.Path,
            _ => null,
        };
        if (path is null || path.Schema is not null || path.SubAttribute is not null)
        {
            error = ScimError.InvalidFilter("Value filters on emails compare value, type or primary.");
            return false;
        }

        if (string.Equals(path.Attribute, "value", StringComparison.OrdinalIgnoreCase))
        {
            var outer = leaf switch
            {
                ScimCompare compare => (ScimFilter)(compare with { Path = new ScimAttrPath(null, "emails", "value") }),
                _ => new ScimPresent(new ScimAttrPath(null, "emails", "value")),
            };
            return TryLeaf(outer, postgres, out predicate, out error);
        }

        if (string.Equals(path.Attribute, "type", StringComparison.OrdinalIgnoreCase) || string.Equals(path.Attribute, "primary", StringComparison.OrdinalIgnoreCase))
        {
            predicate = Fixed<User>(leaf, EmailElement, emails);
            return true;
        }

        error = NotFilterable(new ScimAttrPath(null, "emails", path.Attribute));
        return false;
    }

    // userName is the username when there is one, else the email; both columns hold the lower-cased form.
    private static Expression<Func<User, bool>> UserName(ScimCompareOp op, string value, bool postgres)
    {
        var byUsername = CompareString<User>(u => u.UsernameNormalized, op, value.ToLowerInvariant(), Casing.Normalized, postgres);
        var byEmail = CompareString<User>(u => u.EmailNormalized, op, op == ScimCompareOp.Eq ? EmailAddresses.Normalize(value) : EmailAddresses.Nfc(value).ToLowerInvariant(),
            Casing.Normalized, postgres);
        Expression<Func<User, bool>> noUsername = u => u.UsernameNormalized == null;
        return Combine(byUsername, Combine(noUsername, byEmail, Expression.AndAlso), Expression.OrElse);
    }

    private static Expression<Func<User, bool>> Email(ScimCompareOp op, string value, bool postgres) =>
        CompareString<User>(u => u.EmailNormalized, op, op == ScimCompareOp.Eq ? EmailAddresses.Normalize(value) : EmailAddresses.Nfc(value).ToLowerInvariant(),
            Casing.Normalized, postgres);

    /// <summary>Orders by a SCIM attribute (sortBy), then by id so pages are stable; invalidValue/invalidPath if it cannot sort on it.</summary>
    public static bool TryOrder(IQueryable<User> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<User>? ordered, [NotNullWhen(false)] out ScimError? error) =>
        TryOrder(null, query, sortBy, descending, out ordered, out error);

    /// <summary>
    /// As <see cref="TryOrder(IQueryable{User}, string?, bool, out IQueryable{User}?, out ScimError?)"/>; with the
    /// context it also orders identically on both databases (code-point order, ASCII-folded names).
    /// </summary>
    public static bool TryOrder(ScaiKeyDbContext? db, IQueryable<User> query, string? sortBy, bool descending, [NotNullWhen(true)] out IQueryable<User>? ordered, [NotNullWhen(false)] out ScimError? error)
    {
        ordered = null;
        var postgres = db is not null && !db.Database.IsSqlite();
        if (string.IsNullOrWhiteSpace(sortBy))
        {
            ordered = descending ? query.OrderByDescending(u => u.Id) : query.OrderBy(u => u.Id);
            error = null;
            return true;
        }

        if (!ScimFilterParser.SplitAttrPath(sortBy.Trim(), out var path))
        {
            error = ScimError.InvalidPath($"sortBy '{sortBy}' is not an attribute name.");
            return false;
        }

        var type = ScimSchemas.UserType;
        error = null;
        ordered =
            IsCore(path, type, "id") ? ScimSort.By(query, u => u.Id, descending, postgres)
            : IsCore(path, type, "userName") ? ScimSort.By(query, u => u.UsernameNormalized ?? u.EmailNormalized, descending, postgres)
            : IsCore(path, type, "externalId") ? ScimSort.By(query, u => u.ExternalId, descending, postgres)
            : IsCore(path, type, "displayName") ? ScimSort.Folded(query, u => u.DisplayName, descending, postgres)
            : IsCore(path, type, "name", "givenName") ? ScimSort.Folded(query, u => u.FirstName, descending, postgres)
            : IsCore(path, type, "name", "familyName") ? ScimSort.Folded(query, u => u.LastName, descending, postgres)
            : IsCore(path, type, "emails") || IsCore(path, type, "emails", "value") ? ScimSort.By(query, u => u.EmailNormalized, descending, postgres)
            : IsCore(path, type, "meta", "created") ? ScimSort.ByValue(query, u => u.CreatedAt, descending)
            : IsCore(path, type, "meta", "lastModified") ? ScimSort.ByValue(query, u => u.UpdatedAt ?? u.CreatedAt, descending)
            : null;
        if (ordered is null)
        {
            error = ScimError.InvalidValue($"Users cannot be sorted by '{sortBy}'.");
            return false;
        }

        return true;
    }
}
