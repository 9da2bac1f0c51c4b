using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// Building blocks for translating SCIM filters into EF Core predicates that give the same answers on SQLite and
/// PostgreSQL. Values travel as closure members, so EF sends them as parameters and caches one plan per shape.
/// </summary>
internal static class ScimQueryExpressions
{
    /// <summary>A leaf translator: a comparison, presence test or value filter → predicate, or the error.</summary>
    public delegate bool Leaf<T>(ScimFilter leaf, out Expression<Func<T, bool>>? predicate, out ScimError? error);

    public static bool TryTranslate<T>(ScimFilter filter, Leaf<T> leaf, [NotNullWhen(true)] out Expression<Func<T, bool>>? predicate, [NotNullWhen(false)] out ScimError? error)
    {
        predicate = null;
        switch (filter)
        {
            case ScimAnd both:
                if (!TryTranslate(both.Left, leaf, out var left, out error) || !TryTranslate(both.Right, leaf, out var right, out error))
                {
                    return false;
                }

                predicate = Combine(left, right, Expression.AndAlso);
                return true;
            case ScimOr either:
                if (!TryTranslate(either.Left, leaf, out var first, out error) || !TryTranslate(either.Right, leaf, out var second, out error))
                {
                    return false;
                }

                predicate = Combine(first, second, Expression.OrElse);
                return true;
            case ScimNot negated:
                if (!TryTranslate(negated.Inner, leaf, out var inner, out error))
                {
                    return false;
                }

                predicate = Not(inner);
                return true;
            case ScimCompare { Op: ScimCompareOp.Ne } compare:
                // "ne" is the negation of "eq" (an unassigned attribute is "ne" anything), as in memory.
                if (!leaf(compare with { Op = ScimCompareOp.Eq }, out var equal, out var refused))
                {
                    error = refused!;
                    return false;
                }

                predicate = Not(equal!);
                error = null;
                return true;
            default:
                if (!leaf(filter, out var found, out var failed))
                {
                    error = failed!;
                    return false;
                }

                predicate = found!;
                error = null;
                return true;
        }
    }

    public static Expression<Func<T, bool>> Not<T>(Expression<Func<T, bool>> inner) =>
        Expression.Lambda<Func<T, bool>>(Expression.Not(inner.Body), inner.Parameters);

    public static Expression<Func<T, bool>> Combine<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right,
        Func<Expression, Expression, BinaryExpression> join) =>
        Expression.Lambda<Func<T, bool>>(join(left.Body, Replace(right.Body, right.Parameters[0], left.Parameters[0])), left.Parameters);

    public static Expression<Func<T, bool>> Constant<T>(bool value) => Expression.Lambda<Func<T, bool>>(Expression.Constant(value), Expression.Parameter(typeof(T), "x"));

    public static Expression Replace(Expression body, ParameterExpression from, Expression to) => new Replacer(from, to).Visit(body);

    /// <summary>How a string column compares: as stored (caseExact), or case-insensitively.</summary>
    public enum Casing
    {
        /// <summary>Compared as stored: ids, externalId.</summary>
        Exact,

        /// <summary>The column already holds the lower-cased form (email_normalized, username_normalized).</summary>
        Normalized,

        /// <summary>Folded on both sides by the same ASCII-only rule on both databases (names without a normalized column).</summary>
        AsciiFolded,
    }

    /// <summary>
    /// <paramref name="column"/> op <paramref name="value"/> for a string attribute. The value is already in the
    /// column's form for Normalized columns. co/sw/ew use instr()/strpos() and substr(), never LIKE, whose case rules
    /// differ between SQLite and PostgreSQL; gt/ge/lt/le compare in code-point order (COLLATE "C" on PostgreSQL).
    /// </summary>
    public static Expression<Func<T, bool>> CompareString<T>(Expression<Func<T, string?>> column, ScimCompareOp op, string value, Casing casing, bool postgres)
    {
        var parameter = column.Parameters[0];
        Expression body = column.Body;
        if (casing == Casing.AsciiFolded)
        {
            body = FoldAscii(body, postgres);
            value = FoldAscii(value);
        }

        var holder = new ValueHolder(value);
        Expression constant = Expression.Property(Expression.Constant(holder), nameof(ValueHolder.Value));
        var notNull = Expression.NotEqual(column.Body, Expression.Constant(null, typeof(string)));
        Expression test = op switch
        {
            ScimCompareOp.Eq => Expression.Equal(body, constant),
            ScimCompareOp.Co => Expression.GreaterThanOrEqual(Expression.Call(body, IndexOf, constant), Expression.Constant(0)),
            ScimCompareOp.Sw => Expression.Equal(Expression.Call(body, IndexOf, constant), Expression.Constant(0)),
            ScimCompareOp.Ew => EndsWith(body, value, holder),
            _ => Ordered(body, constant, op, postgres),
        };

        return Expression.Lambda<Func<T, bool>>(Expression.AndAlso(notNull, test), parameter);
    }

    private static readonly MethodInfo IndexOf = typeof(string).GetMethod(nameof(string.IndexOf), [typeof(string)])!;
    private static readonly MethodInfo Substring = typeof(string).GetMethod(nameof(string.Substring), [typeof(int), typeof(int)])!;
    private static readonly MethodInfo ReplaceText = typeof(string).GetMethod(nameof(string.Replace), [typeof(string), typeof(string)])!;
    private static readonly MethodInfo ToLower = typeof(string).GetMethod(nameof(string.ToLower), Type.EmptyTypes)!;
    private static readonly MethodInfo CompareOrdinal = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;
    private static readonly MethodInfo Collate = typeof(RelationalDbFunctionsExtensions).GetMethod(nameof(RelationalDbFunctionsExtensions.Collate))!.MakeGenericMethod(typeof(string));

    // length(col) >= n AND substr(col, length(col) - n + 1, n) = value: exact on both databases.
    private static Expression EndsWith(Expression body, string value, ValueHolder holder)
    {
        var length = Expression.Property(body, nameof(string.Length));
        var n = Expression.Property(Expression.Constant(holder), nameof(ValueHolder.Length));
        var tail = Expression.Call(body, Substring, Expression.Subtract(length, n), n);
        _ = value;
        return Expression.AndAlso(Expression.GreaterThanOrEqual(length, n),
            Expression.Equal(tail, Expression.Property(Expression.Constant(holder), nameof(ValueHolder.Value))));
    }

    private static Expression Ordered(Expression body, Expression constant, ScimCompareOp op, bool postgres)
    {
        var left = postgres ? InC(body) : body;
        var compare = Expression.Call(CompareOrdinal, left, constant);
        var zero = Expression.Constant(0);
        return op switch
        {
            ScimCompareOp.Gt => Expression.GreaterThan(compare, zero),
            ScimCompareOp.Ge => Expression.GreaterThanOrEqual(compare, zero),
            ScimCompareOp.Lt => Expression.LessThan(compare, zero),
            _ => Expression.LessThanOrEqual(compare, zero),
        };
    }

    /// <summary>The string in code-point order: COLLATE "C" on PostgreSQL (SQLite's BINARY already is).</summary>
    public static Expression InC(Expression body) => Expression.Call(Collate, Expression.Constant(EF.Functions), body, Expression.Constant("C"));

    /// <summary>
    /// ASCII-only case folding, the same on both databases: SQLite's lower() folds only A-Z, so on PostgreSQL
    /// (whose lower() folds all of Unicode) the 26 letters are replaced one by one instead.
    /// </summary>
    public static Expression FoldAscii(Expression body, bool postgres)
    {
        if (!postgres)
        {
            return Expression.Call(body, ToLower);
        }

        for (var c = 'A'; c <= 'Z'; c++)
        {
            body = Expression.Call(body, ReplaceText, Expression.Constant(c.ToString()), Expression.Constant(char.ToLowerInvariant(c).ToString()));
        }

        return body;
    }

    public static string FoldAscii(string value) => string.Create(value.Length, value, (span, text) =>
    {
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = char.IsAsciiLetterUpper(text[i]) ? (char)(text[i] + 32) : text[i];
        }
    });

    /// <summary>The comparison value as a string, or the invalidFilter error naming the attribute.</summary>
    public static bool TryString(ScimCompare compare, string name, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out ScimError? error)
    {
        value = ScimJson.AsString(compare.Value);
        error = value is null ? ScimError.InvalidFilter($"'{name}' is compared with a string.") : null;
        return value is not null;
    }

    /// <summary>The comparison value as an instant (xsd:dateTime), in UTC as the columns hold it.</summary>
    public static bool TryInstant(ScimCompare compare, string name, out DateTime value, [NotNullWhen(false)] out ScimError? error)
    {
        value = default;
        error = null;
        if (compare.Op is ScimCompareOp.Co or ScimCompareOp.Sw or ScimCompareOp.Ew)
        {
            error = ScimError.InvalidFilter($"'{name}' is a dateTime: use eq, ne, gt, ge, lt or le.");
            return false;
        }

        if (ScimJson.AsDateTime(ScimJson.AsString(compare.Value)) is not { } instant)
        {
            error = ScimError.InvalidFilter($"'{name}' is compared with an xsd:dateTime string such as \"2011-05-13T04:42:34Z\".");
            return false;
        }

        value = instant.UtcDateTime;
        return true;
    }

    public static Expression<Func<T, bool>> CompareInstant<T>(Expression<Func<T, DateTime>> column, ScimCompareOp op, DateTime value)
    {
        var holder = new InstantHolder(value);
        Expression constant = Expression.Property(Expression.Constant(holder), nameof(InstantHolder.Value));
        var body = column.Body;
        Expression test = op switch
        {
            ScimCompareOp.Eq => Expression.Equal(body, constant),
            ScimCompareOp.Gt => Expression.GreaterThan(body, constant),
            ScimCompareOp.Ge => Expression.GreaterThanOrEqual(body, constant),
            ScimCompareOp.Lt => Expression.LessThan(body, constant),
            _ => Expression.LessThanOrEqual(body, constant),
        };
        return Expression.Lambda<Func<T, bool>>(test, column.Parameters);
    }

    /// <summary>A comparison against a value that is the same for every row (emails' type "work"), decided in memory.</summary>
    public static Expression<Func<T, bool>> Fixed<T>(ScimFilter leaf, JsonObject element, ScimAttribute parent) =>
        Constant<T>(ScimFilterEvaluator.MatchesElement(leaf, element, parent));

    public static ScimError NotFilterable(ScimAttrPath path) =>
        ScimError.InvalidFilter($"The attribute '{Name(path)}' cannot be used in a filter here.");

    public static string Name(ScimAttrPath path) =>
        (path.Schema is null ? string.Empty : path.Schema + ":") + path.Attribute + (path.SubAttribute is null ? string.Empty : "." + path.SubAttribute);

    /// <summary>Whether a name is one of the resource type's core attributes (unqualified or under the core URN).</summary>
    public static bool IsCore(ScimAttrPath path, ScimResourceType type, string attribute, string? sub = null) =>
        (path.Schema is null || string.Equals(path.Schema, type.Schema.Id, StringComparison.OrdinalIgnoreCase))
        && string.Equals(path.Attribute, attribute, StringComparison.OrdinalIgnoreCase)
        && string.Equals(path.SubAttribute, sub, StringComparison.OrdinalIgnoreCase);

    // Closure-like holders: EF Core turns member accesses on constants into query parameters.
    private sealed class ValueHolder(string value)
    {
        public string Value { get; } = value;

        public int Length { get; } = value.Length;
    }

    private sealed class InstantHolder(DateTime value)
    {
        public DateTime Value { get; } = value;
    }

    private sealed class Replacer(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
