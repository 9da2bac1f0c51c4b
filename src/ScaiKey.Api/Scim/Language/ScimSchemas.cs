namespace ScaiKey.Api.Scim.Language;

// STUB (contract between the SCIM helpers): the schema descriptors of RFC 7643 §4, §7 and §8.7. They feed
// /Schemas and /ResourceTypes, the filter's and PATCH's knowledge of attribute types, multi-valued attributes and
// mutability, and attribute projection. Implemented by the SCIM language work.

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
    IReadOnlyList<string>? ReferenceTypes = null);

internal sealed record ScimSchema(string Id, string Name, string Description, IReadOnlyList<ScimAttribute> Attributes);

/// <summary>A resource type (RFC 7643 §6): its endpoint, core schema and extensions.</summary>
internal sealed record ScimResourceType(string Name, string Endpoint, string Description, ScimSchema Schema, IReadOnlyList<ScimSchema> Extensions);

internal static class ScimSchemas
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

    public static ScimSchema UserSchema => throw new NotImplementedException();
    public static ScimSchema EnterpriseUserSchema => throw new NotImplementedException();
    public static ScimSchema GroupSchema => throw new NotImplementedException();

    public static ScimResourceType UserType => throw new NotImplementedException();
    public static ScimResourceType GroupType => throw new NotImplementedException();

    public static IReadOnlyList<ScimSchema> All => throw new NotImplementedException();
}
