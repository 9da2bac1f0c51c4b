using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

// The filter and path language of RFC 7644 §3.4.2.2 and §3.5.2: the syntax tree. ScimFilterParser reads it,
// ScimFilterEvaluator runs it in memory, ScimUserQuery/ScimGroupQuery translate it for the database.

/// <summary>An attribute path: optional schema URN, attribute name, optional sub-attribute (name.givenName).</summary>
internal sealed record ScimAttrPath(string? Schema, string Attribute, string? SubAttribute);

internal enum ScimCompareOp { Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le }

/// <summary>A parsed filter. Attribute names compare case-insensitively, as RFC 7643 §2.1 says.</summary>
internal abstract record ScimFilter;

/// <summary><c>path op value</c>; Value is a JSON string, number, boolean, or null for the literal null.</summary>
internal sealed record ScimCompare(ScimAttrPath Path, ScimCompareOp Op, JsonValue? Value) : ScimFilter;

internal sealed record ScimPresent(ScimAttrPath Path) : ScimFilter;

internal sealed record ScimAnd(ScimFilter Left, ScimFilter Right) : ScimFilter;

internal sealed record ScimOr(ScimFilter Left, ScimFilter Right) : ScimFilter;

internal sealed record ScimNot(ScimFilter Inner) : ScimFilter;

/// <summary><c>emails[type eq "work" and value co "@x"]</c>: Filter applies to each element of the multi-valued Path.</summary>
internal sealed record ScimValuePath(ScimAttrPath Path, ScimFilter Filter) : ScimFilter;

/// <summary>
/// A PATCH path (RFC 7644 §3.5.2): <c>attrPath</c>, <c>valuePath</c> with an optional trailing sub-attribute
/// (<c>emails[type eq "work"].value</c>, <c>members[value eq "id"]</c>), schema-qualified names
/// (<c>urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value</c>).
/// </summary>
internal sealed record ScimPath(ScimAttrPath Attribute, ScimFilter? ValueFilter, string? SubAttribute);
