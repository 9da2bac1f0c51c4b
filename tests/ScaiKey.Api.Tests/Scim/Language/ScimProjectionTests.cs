using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>attributes / excludedAttributes (RFC 7644 §3.9).</summary>
public sealed class ScimProjectionTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    private static JsonObject User() => JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id": "u-1",
          "externalId": "e-1",
          "userName": "bjensen",
          "name": { "givenName": "Barbara", "familyName": "Jensen" },
          "displayName": "Babs",
          "password": "never-shown",
          "emails": [ { "value": "a@example.com", "type": "work", "primary": true }, { "value": "b@example.com", "type": "home" } ],
          "meta": { "resourceType": "User" },
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Ops", "costCenter": "4130" }
        }
        """)!.AsObject();

    private static JsonObject Apply(string[]? attributes, string[]? excluded) =>
        ScimProjection.Apply(User(), attributes, excluded, ScimSchemas.UserType);

    [Fact]
    public void Attributes_keep_only_those_asked_for_plus_id_and_schemas()
    {
        var result = Apply(["userName", "DISPLAYNAME"], null);
        Assert.Equal(["schemas", "id", "userName", "displayName"], result.Select(p => p.Key));
    }

    [Fact]
    public void Sub_attribute_names_keep_the_parent_with_that_sub_attribute_only()
    {
        var result = Apply(["name.givenName", "emails.value"], null);
        Assert.Equal("""{"givenName":"Barbara"}""", result["name"]!.ToJsonString());
        Assert.Equal("""[{"value":"a@example.com"},{"value":"b@example.com"}]""", result["emails"]!.ToJsonString());
    }

    [Fact]
    public void Urn_qualified_names_and_whole_extensions()
    {
        var one = Apply([Enterprise + ":department", "urn:ietf:params:scim:schemas:core:2.0:User:userName"], null);
        Assert.Equal("""{"department":"Ops"}""", one[Enterprise]!.ToJsonString());
        Assert.Equal("bjensen", one["userName"]!.GetValue<string>());

        var whole = Apply([Enterprise], null);
        Assert.Equal(2, whole[Enterprise]!.AsObject().Count);
    }

    [Fact]
    public void Excluded_attributes_go_but_id_and_schemas_stay()
    {
        var result = Apply(null, ["emails", "id", "schemas", "name.familyName", Enterprise + ":costCenter"]);
        Assert.Null(result["emails"]);
        Assert.NotNull(result["id"]);
        Assert.NotNull(result["schemas"]);
        Assert.Equal("""{"givenName":"Barbara"}""", result["name"]!.ToJsonString());
        Assert.Equal("""{"department":"Ops"}""", result[Enterprise]!.ToJsonString());
        Assert.NotNull(result["displayName"]); // control: not excluded, still there
    }

    [Fact]
    public void Password_is_never_returned()
    {
        Assert.Null(Apply(null, null)["password"]);
        Assert.Null(Apply(["password"], null)["password"]);
    }

    [Fact]
    public void Unknown_names_are_ignored_and_the_input_is_unchanged()
    {
        var user = User();
        var before = user.ToJsonString();
        var result = ScimProjection.Apply(user, ["nope", "!!"], ["also.nope"], ScimSchemas.UserType);
        Assert.Equal(["schemas", "id"], result.Select(p => p.Key));
        Assert.Equal(before, user.ToJsonString());
    }
}
