using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>Filters run in memory against a user as GET renders it (RFC 7644 §3.4.2.2's matching rules).</summary>
public sealed class ScimFilterEvaluatorTests
{
    private static JsonObject User() => JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id": "Abc123",
          "externalId": "Ext-9",
          "userName": "BJensen@Example.com",
          "name": { "givenName": "Barbara", "familyName": "O'Malley" },
          "displayName": "Babs Jensen",
          "title": "Tour Guide",
          "userType": "Employee",
          "active": true,
          "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
          ],
          "ims": [ { "value": "babs@foo.com", "type": "xmpp" } ],
          "meta": { "resourceType": "User", "created": "2011-05-13T04:42:34Z", "lastModified": "2011-05-13T04:42:34.5+02:00" },
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Tour Operations", "manager": { "value": "M-1" } }
        }
        """)!.AsObject();

    private static bool Matches(string text)
    {
        Assert.True(ScimFilterParser.TryParse(text, out var filter, out var error), error?.Detail);
        return ScimFilterEvaluator.Matches(filter, User(), ScimSchemas.UserType);
    }

    [Theory]
    [InlineData("userName eq \"bjensen@example.com\"", true)]
    [InlineData("USERNAME EQ \"BJENSEN@EXAMPLE.COM\"", true)]
    [InlineData("name.familyName co \"o'mal\"", true)]
    [InlineData("userName sw \"bj\"", true)]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"BJ\"", true)]
    [InlineData("title pr", true)]
    [InlineData("nickName pr", false)]
    [InlineData("title pr and userType eq \"Employee\"", true)]
    [InlineData("title pr and userType eq \"Intern\"", false)]
    [InlineData("title pr or userType eq \"Intern\"", true)]
    [InlineData("schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", true)]
    [InlineData("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", true)]
    [InlineData("userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", false)]
    [InlineData("userType eq \"Employee\" and (emails.type eq \"work\")", true)]
    [InlineData("userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]", true)]
    [InlineData("emails[type eq \"home\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]", true)]
    [InlineData("emails[type eq \"home\" and value co \"@example.com\"]", false)]
    public void Rfc7644_examples_against_a_user(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("id eq \"Abc123\"", true)]
    [InlineData("id eq \"abc123\"", false)] // id is caseExact (RFC 7643 §3.1)
    [InlineData("externalId eq \"ext-9\"", false)]
    [InlineData("externalId sw \"Ext\"", true)]
    [InlineData("displayName eq \"BABS JENSEN\"", true)] // caseExact false
    [InlineData("displayName ew \"jensen\"", true)]
    public void Case_sensitivity_follows_case_exact(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("meta.created eq \"2011-05-13T06:42:34+02:00\"", true)] // the same instant written differently
    [InlineData("meta.lastModified gt \"2011-05-13T02:42:34Z\"", true)]
    [InlineData("meta.lastModified lt \"2011-05-13T02:42:35Z\"", true)]
    [InlineData("meta.lastModified lt \"2011-05-13T02:42:34Z\"", false)]
    [InlineData("meta.lastModified ge \"2011-05-13T02:42:34.5Z\"", true)]
    [InlineData("meta.lastModified le \"2011-05-13T02:42:34.4Z\"", false)]
    public void DateTimes_compare_as_instants(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("userName gt \"bjensen@example.c\"", true)]
    [InlineData("userName lt \"bjensen@example.c\"", false)]
    [InlineData("displayName gt \"Babs\"", true)]
    [InlineData("displayName ge \"babs jensen\"", true)]
    [InlineData("displayName le \"BABS JENSEN\"", true)]
    public void Gt_and_lt_on_strings_are_ordinal(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("emails eq \"babs@jensen.org\"", true)] // any element
    [InlineData("emails.value ew \"jensen.org\"", true)]
    [InlineData("emails.type eq \"other\"", false)]
    [InlineData("emails[type eq \"work\"].value eq \"bjensen@example.com\"", true)]
    [InlineData("emails[type eq \"work\"].value eq \"babs@jensen.org\"", false)]
    [InlineData("emails[primary eq true].value sw \"bjensen\"", true)]
    public void Multi_valued_attributes_match_if_any_element_does(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("active eq true", true)]
    [InlineData("active eq false", false)]
    [InlineData("active ne false", true)]
    [InlineData("nickName ne \"x\"", true)] // unassigned is "ne" anything
    [InlineData("nickName eq null", true)]
    [InlineData("title eq null", false)]
    [InlineData("title ne null", true)]
    [InlineData("not (title pr)", false)]
    public void Booleans_null_and_negation(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Theory]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"tour operations\"", true)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"M-1\"", true)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr", false)]
    public void Extension_attributes_are_found_under_their_urn(string text, bool expected) => Assert.Equal(expected, Matches(text));

    [Fact]
    public void Active_sent_as_a_string_still_compares_as_a_boolean()
    {
        var user = User();
        user["active"] = "False";
        Assert.True(ScimFilterParser.TryParse("active eq false", out var filter, out _));
        Assert.True(ScimFilterEvaluator.Matches(filter, user, ScimSchemas.UserType));
    }

    [Fact]
    public void Validation_refuses_gt_on_booleans_and_co_with_null()
    {
        Assert.True(ScimFilterParser.TryParse("active gt true", out var boolean, out _));
        Assert.False(ScimFilterEvaluator.TryValidate(boolean, ScimSchemas.UserType, out var error));
        Assert.Equal("invalidFilter", error!.ScimType);

        Assert.True(ScimFilterParser.TryParse("title co null", out var nullValue, out _));
        Assert.False(ScimFilterEvaluator.TryValidate(nullValue, ScimSchemas.UserType, out _));

        // Control: an ordinary filter validates.
        Assert.True(ScimFilterParser.TryParse("userName gt \"a\" and active eq true", out var fine, out _));
        Assert.True(ScimFilterEvaluator.TryValidate(fine, ScimSchemas.UserType, out _));
    }

    [Fact]
    public void Group_members_value_filter()
    {
        var group = JsonNode.Parse("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g","displayName":"Tour Guides","members":[{"value":"u1","type":"User"},{"value":"g2","type":"Group"}]}""")!.AsObject();
        Assert.True(ScimFilterParser.TryParse("members[value eq \"u1\" and type eq \"user\"]", out var hit, out _));
        Assert.True(ScimFilterEvaluator.Matches(hit, group, ScimSchemas.GroupType));
        Assert.True(ScimFilterParser.TryParse("members[value eq \"g2\" and type eq \"User\"]", out var miss, out _));
        Assert.False(ScimFilterEvaluator.Matches(miss, group, ScimSchemas.GroupType));
    }
}
