namespace ScaiKey.Api.Scim.Language;

// The schema descriptors of RFC 7643 §4, §7 and §8.7. They feed /Schemas and /ResourceTypes, the filter's and
// PATCH's knowledge of attribute types, multi-valued attributes and mutability, and attribute projection.

internal enum ScimAttributeType { String, Boolean, Decimal, Integer, DateTime, Reference, Complex, Binary }

internal enum ScimMutability { ReadOnly, ReadWrite, Immutable, WriteOnly }

internal enum ScimReturned { Always, Never, Default, Request }

internal sealed record ScimAttribute(
    string Name,
    ScimAttributeType Type,
    bool MultiValued = false,
    bool Required = false,
    bool CaseExact = false,
    ScimMutability Mutability = ScimMutability.ReadWrite,
    ScimReturned Returned = ScimReturned.Default,
    string Uniqueness = "none",
    string Description = "",
    IReadOnlyList<ScimAttribute>? SubAttributes = null,
    IReadOnlyList<string>? CanonicalValues = null,
    IReadOnlyList<string>? ReferenceTypes = null)
{
    /// <summary>A sub-attribute by name, case-insensitively (RFC 7643 §2.1).</summary>
    public ScimAttribute? Sub(string name) =>
        SubAttributes?.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

internal sealed record ScimSchema(string Id, string Name, string Description, IReadOnlyList<ScimAttribute> Attributes)
{
    public ScimAttribute? Attribute(string name) =>
        Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A resource type (RFC 7643 §6): its endpoint, core schema and extensions.</summary>
internal sealed record ScimResourceType(string Name, string Endpoint, string Description, ScimSchema Schema, IReadOnlyList<ScimSchema> Extensions)
{
    /// <summary>The core or extension schema with this URN (case-insensitive), or null.</summary>
    public ScimSchema? SchemaById(string urn) =>
        string.Equals(Schema.Id, urn, StringComparison.OrdinalIgnoreCase) ? Schema
            : Extensions.FirstOrDefault(e => string.Equals(e.Id, urn, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The attribute a path names: a common attribute (id, externalId, meta) or one of the core schema's, or, when
    /// the path is schema-qualified, that schema's. Null when the resource type has no such attribute.
    /// </summary>
    public ScimAttribute? Resolve(ScimAttrPath path)
    {
        if (path.Schema is not null)
        {
            var schema = SchemaById(path.Schema);
            if (schema is null)
            {
                return null;
            }

            return schema == Schema ? ScimSchemas.Common(path.Attribute) ?? schema.Attribute(path.Attribute) : schema.Attribute(path.Attribute);
        }

        return ScimSchemas.Common(path.Attribute) ?? Schema.Attribute(path.Attribute);
    }

    /// <summary>The attribute and, when the path names one, its sub-attribute; null if either does not exist.</summary>
    public (ScimAttribute Attribute, ScimAttribute? Sub)? ResolveWithSub(ScimAttrPath path)
    {
        var attribute = Resolve(path);
        if (attribute is null)
        {
            return null;
        }

        if (path.SubAttribute is null)
        {
            return (attribute, null);
        }

        var sub = attribute.Sub(path.SubAttribute);
        return sub is null ? null : (attribute, sub);
    }
}

internal static partial class ScimSchemas
{
    public const string User = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string EnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string Group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string ListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string BulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
    public const string BulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
    public const string Error = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string Schema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    public static ScimSchema UserSchema { get; } = new(User, "User", "User Account", UserAttributes());
    public static ScimSchema EnterpriseUserSchema { get; } = new(EnterpriseUser, "EnterpriseUser", "Enterprise User", EnterpriseAttributes());
    public static ScimSchema GroupSchema { get; } = new(Group, "Group", "Group", GroupAttributes());

    public static ScimResourceType UserType { get; } = new("User", "/Users", "User Account", UserSchema, [EnterpriseUserSchema]);
    public static ScimResourceType GroupType { get; } = new("Group", "/Groups", "Group", GroupSchema, []);

    public static IReadOnlyList<ScimSchema> All { get; } = [UserSchema, EnterpriseUserSchema, GroupSchema];

    /// <summary>
    /// The attributes every resource has (RFC 7643 §3.1). The /Schemas representations leave them out, as the
    /// RFC's own (§8.7.1) do; the filter, PATCH and projection find them here.
    /// </summary>
    public static IReadOnlyList<ScimAttribute> CommonAttributes { get; } =
    [
        new("id", ScimAttributeType.String, CaseExact: true, Mutability: ScimMutability.ReadOnly, Returned: ScimReturned.Always,
            Uniqueness: "server", Description: "Unique identifier for the SCIM resource as defined by the service provider."),
        new("externalId", ScimAttributeType.String, CaseExact: true,
            Description: "An identifier for the resource as defined by the provisioning client."),
        new("meta", ScimAttributeType.Complex, Mutability: ScimMutability.ReadOnly, Description: "Resource metadata.", SubAttributes:
        [
            new("resourceType", ScimAttributeType.String, CaseExact: true, Mutability: ScimMutability.ReadOnly, Description: "The name of the resource type of the resource."),
            new("created", ScimAttributeType.DateTime, Mutability: ScimMutability.ReadOnly, Description: "The DateTime that the resource was added to the service provider."),
            new("lastModified", ScimAttributeType.DateTime, Mutability: ScimMutability.ReadOnly, Description: "The most recent DateTime that the details of this resource were updated."),
            new("location", ScimAttributeType.Reference, CaseExact: true, Mutability: ScimMutability.ReadOnly, Description: "The URI of the resource being returned.", ReferenceTypes: ["uri"]),
            new("version", ScimAttributeType.String, CaseExact: true, Mutability: ScimMutability.ReadOnly, Description: "The version of the resource being returned."),
        ]),
    ];

    public static ScimAttribute? Common(string name) =>
        CommonAttributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    public static ScimResourceType? TypeOf(string name) =>
        string.Equals(name, "User", StringComparison.OrdinalIgnoreCase) ? UserType
            : string.Equals(name, "Group", StringComparison.OrdinalIgnoreCase) ? GroupType : null;
}
