using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>The schema descriptors carry RFC 7643 §4.1-4.3's (and §8.7's) characteristics.</summary>
public sealed class ScimSchemasTests
{
    private static ScimAttribute User(string name) => ScimSchemas.UserSchema.Attribute(name)!;

    [Fact]
    public void Core_user_attributes()
    {
        Assert.Equal(ScimSchemas.User, ScimSchemas.UserSchema.Id);
        var userName = User("userName");
        Assert.True(userName.Required);
        Assert.False(userName.CaseExact);
        Assert.Equal("server", userName.Uniqueness);

        var password = User("password");
        Assert.Equal(ScimMutability.WriteOnly, password.Mutability);
        Assert.Equal(ScimReturned.Never, password.Returned);

        var emails = User("emails");
        Assert.True(emails.MultiValued);
        Assert.Equal(["work", "home", "other"], emails.Sub("type")!.CanonicalValues!);
        Assert.Equal(ScimAttributeType.Boolean, emails.Sub("primary")!.Type);

        Assert.Equal(["work", "home", "mobile", "fax", "pager", "other"], User("phoneNumbers").Sub("type")!.CanonicalValues!);
        Assert.Equal(ScimAttributeType.Reference, User("profileUrl").Type);
        Assert.Equal(ScimAttributeType.Boolean, User("active").Type);
        Assert.Equal(ScimAttributeType.Binary, User("x509Certificates").Sub("value")!.Type);

        var groups = User("groups");
        Assert.Equal(ScimMutability.ReadOnly, groups.Mutability);
        Assert.All(groups.SubAttributes!, s => Assert.Equal(ScimMutability.ReadOnly, s.Mutability));
        Assert.Equal(["direct", "indirect"], groups.Sub("type")!.CanonicalValues!);
        Assert.Equal(["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"],
            User("name").SubAttributes!.Select(s => s.Name));
    }

    [Fact]
    public void Common_attributes()
    {
        var id = ScimSchemas.Common("id")!;
        Assert.True(id.CaseExact);
        Assert.Equal(ScimMutability.ReadOnly, id.Mutability);
        Assert.Equal(ScimReturned.Always, id.Returned);
        Assert.True(ScimSchemas.Common("externalId")!.CaseExact);
        Assert.Equal(ScimMutability.ReadWrite, ScimSchemas.Common("externalId")!.Mutability);
        Assert.Equal(ScimAttributeType.DateTime, ScimSchemas.Common("meta")!.Sub("lastModified")!.Type);
        Assert.Equal(ScimMutability.ReadOnly, ScimSchemas.Common("meta")!.Mutability);
    }

    [Fact]
    public void Enterprise_user_attributes()
    {
        var schema = ScimSchemas.EnterpriseUserSchema;
        Assert.Equal(ScimSchemas.EnterpriseUser, schema.Id);
        Assert.Equal(["employeeNumber", "costCenter", "organization", "division", "department", "manager"], schema.Attributes.Select(a => a.Name));
        var manager = schema.Attribute("manager")!;
        Assert.Equal(ScimAttributeType.Complex, manager.Type);
        Assert.Equal(ScimMutability.ReadOnly, manager.Sub("displayName")!.Mutability);
        Assert.Equal(["User"], manager.Sub("$ref")!.ReferenceTypes!);
    }

    [Fact]
    public void Group_attributes()
    {
        var schema = ScimSchemas.GroupSchema;
        Assert.Equal(ScimSchemas.Group, schema.Id);
        var members = schema.Attribute("members")!;
        Assert.True(members.MultiValued);
        Assert.Equal(ScimMutability.Immutable, members.Sub("value")!.Mutability);
        Assert.Equal(["User", "Group"], members.Sub("type")!.CanonicalValues!);
        Assert.Equal(["User", "Group"], members.Sub("$ref")!.ReferenceTypes!);
    }

    [Fact]
    public void Resource_types()
    {
        Assert.Equal("/Users", ScimSchemas.UserType.Endpoint);
        Assert.Same(ScimSchemas.UserSchema, ScimSchemas.UserType.Schema);
        Assert.Equal([ScimSchemas.EnterpriseUserSchema], ScimSchemas.UserType.Extensions);
        Assert.Equal("/Groups", ScimSchemas.GroupType.Endpoint);
        Assert.Empty(ScimSchemas.GroupType.Extensions);
        Assert.Equal(3, ScimSchemas.All.Count);
    }

    [Fact]
    public void Resolve_finds_common_core_and_extension_attributes_case_insensitively()
    {
        var type = ScimSchemas.UserType;
        Assert.Equal("id", type.Resolve(new ScimAttrPath(null, "ID", null))!.Name);
        Assert.Equal("userName", type.Resolve(new ScimAttrPath(ScimSchemas.User.ToUpperInvariant(), "username", null))!.Name);
        Assert.Equal("department", type.Resolve(new ScimAttrPath(ScimSchemas.EnterpriseUser, "Department", null))!.Name);
        Assert.Null(type.Resolve(new ScimAttrPath(null, "department", null)));
    }
}
