using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>
/// PATCH (RFC 7644 §3.5.2) on representations, with the RFC's own examples (§3.5.2.1-3) and the shapes Entra ID and
/// Okta document.
/// </summary>
public sealed class ScimPatchTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    private const string Member1 = "2819c223-7f76-453a-919d-413861904646";
    private const string Member2 = "902c246b-6245-4190-8e05-00816be7344a";

    private static JsonObject User() => JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
          "id": "u-1",
          "userName": "bjensen@example.com",
          "name": { "givenName": "Barbara", "familyName": "Jensen" },
          "displayName": "Babs Jensen",
          "active": true,
          "emails": [ { "value": "bjensen@example.com", "type": "work", "primary": true } ],
          "groups": [ { "value": "g-1", "display": "Tour Guides" } ],
          "meta": { "resourceType": "User", "created": "2011-05-13T04:42:34Z", "version": "W/\"1\"" }
        }
        """)!.AsObject();

    private static JsonObject Group() => JsonNode.Parse($$"""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          "id": "g-1",
          "displayName": "Tour Guides",
          "members": [
            { "value": "{{Member1}}", "type": "User", "display": "Babs Jensen" },
            { "value": "{{Member2}}", "type": "User", "display": "Mandy Pepperidge" }
          ],
          "meta": { "resourceType": "Group" }
        }
        """)!.AsObject();

    private static IReadOnlyList<ScimPatchOperation> Ops(string operationsJson)
    {
        var body = JsonNode.Parse($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operationsJson}}}""");
        Assert.True(ScimPatch.TryParse(body, out var operations, out var error), error?.Detail);
        return operations;
    }

    private static JsonObject Apply(JsonObject resource, string operationsJson, ScimResourceType? type = null)
    {
        var ok = ScimPatch.TryApply(resource, Ops(operationsJson), type ?? ScimSchemas.UserType, out var patched, out var error);
        Assert.True(ok, error?.Detail);
        return patched!;
    }

    private static ScimError Refuse(JsonObject resource, string operationsJson, ScimResourceType? type = null)
    {
        var ok = ScimPatch.TryApply(resource, Ops(operationsJson), type ?? ScimSchemas.UserType, out var patched, out var error);
        Assert.False(ok, $"applied: {patched?.ToJsonString()}");
        return error!;
    }

    private static List<string> MemberIds(JsonObject group) =>
        group["members"]?.AsArray().Select(m => m!["value"]!.GetValue<string>()).ToList() ?? [];

    // ---- reading the body ----

    [Fact]
    public void Op_is_case_insensitive_and_normalised()
    {
        var ops = Ops("""[{"op":"Replace","path":"displayName","value":"x"},{"op":"ADD","path":"title","value":"y"},{"op":"remove","path":"nickName"}]""");
        Assert.Equal(["replace", "add", "remove"], ops.Select(o => o.Op));
    }

    [Theory]
    [InlineData("""{"Operations":[{"op":"add","path":"title","value":"x"}]}""", "invalidSyntax")] // no PatchOp schema
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"title"}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq","value":"x"}]}""", "invalidPath")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}""", "noTarget")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title"}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":"x"}]}""", "invalidValue")]
    [InlineData("""[1,2]""", "invalidSyntax")]
    public void Malformed_bodies_are_refused_with_the_rfc_error(string json, string scimType)
    {
        Assert.False(ScimPatch.TryParse(JsonNode.Parse(json), out _, out var error));
        Assert.Equal(scimType, error!.ScimType);
    }

    // ---- RFC 7644 §3.5.2.1 add ----

    [Fact]
    public void Rfc_add_members_appends()
    {
        var patched = Apply(Group(), $$"""[{"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/{{Member1}}","value":"{{Member1}}"},{"value":"new-1"}]}]""", ScimSchemas.GroupType);
        Assert.Equal([Member1, Member2, "new-1"], MemberIds(patched));
    }

    [Fact]
    public void Rfc_add_without_path_merges_attributes_and_appends_multi_valued()
    {
        var patched = Apply(User(), """[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickName":"Babs"}}]""");
        Assert.Equal("Babs", patched["nickName"]!.GetValue<string>());
        Assert.Equal(["bjensen@example.com", "babs@jensen.org"], patched["emails"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()));
    }

    [Fact]
    public void Add_of_an_existing_value_adds_no_duplicate()
    {
        var patched = Apply(User(), """[{"op":"add","path":"emails","value":[{"value":"bjensen@example.com","type":"work"}]}]""");
        Assert.Single(patched["emails"]!.AsArray());
    }

    [Fact]
    public void Add_to_a_single_valued_attribute_replaces_it() =>
        Assert.Equal("New", Apply(User(), """[{"op":"add","path":"displayName","value":"New"}]""")["displayName"]!.GetValue<string>());

    [Fact]
    public void Add_of_a_complex_value_sets_the_given_sub_attributes_only()
    {
        var patched = Apply(User(), """[{"op":"add","path":"name","value":{"familyName":"Jensen-Smith"}}]""");
        Assert.Equal("Barbara", patched["name"]!["givenName"]!.GetValue<string>());
        Assert.Equal("Jensen-Smith", patched["name"]!["familyName"]!.GetValue<string>());
    }

    [Fact]
    public void Add_with_primary_true_clears_the_other_primary()
    {
        var patched = Apply(User(), """[{"op":"add","path":"emails","value":[{"value":"babs@jensen.org","type":"home","primary":true}]}]""");
        Assert.False(patched["emails"]![0]!["primary"]!.GetValue<bool>());
        Assert.True(patched["emails"]![1]!["primary"]!.GetValue<bool>());
    }

    // ---- RFC 7644 §3.5.2.2 remove ----

    [Fact]
    public void Rfc_remove_one_member_by_value_filter()
    {
        var patched = Apply(Group(), $$"""[{"op":"remove","path":"members[value eq \"{{Member1}}\"]"}]""", ScimSchemas.GroupType);
        Assert.Equal([Member2], MemberIds(patched));
    }

    [Fact]
    public void Rfc_remove_all_members()
    {
        var patched = Apply(Group(), """[{"op":"remove","path":"members"}]""", ScimSchemas.GroupType);
        Assert.Null(patched["members"]);
    }

    [Fact]
    public void Rfc_replace_a_member_by_remove_then_add()
    {
        var patched = Apply(Group(), $$"""[{"op":"remove","path":"members[value eq \"{{Member1}}\"]"},{"op":"add","path":"members","value":[{"display":"James Smith","$ref":"https://example.com/v2/Users/08e1d05d","value":"08e1d05d"}]}]""", ScimSchemas.GroupType);
        Assert.Equal([Member2, "08e1d05d"], MemberIds(patched));
    }

    [Fact]
    public void Rfc_remove_emails_matching_a_complex_filter()
    {
        var user = Apply(User(), """[{"op":"add","path":"emails","value":[{"value":"b@work.example.com","type":"work"}]}]""");
        var patched = Apply(user, """[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]""");
        Assert.Null(patched["emails"]);
    }

    [Fact]
    public void Remove_of_a_sub_attribute_of_matching_elements()
    {
        var patched = Apply(User(), """[{"op":"remove","path":"emails[type eq \"work\"].primary"}]""");
        Assert.Null(patched["emails"]![0]!["primary"]);
        Assert.NotNull(patched["emails"]![0]!["value"]);
    }

    [Fact]
    public void Remove_with_a_filter_matching_nothing_is_no_target()
    {
        Assert.Equal("noTarget", Refuse(Group(), """[{"op":"remove","path":"members[value eq \"nobody\"]"}]""", ScimSchemas.GroupType).ScimType);
        // Control: the same filter on an existing member passes.
        Apply(Group(), $$"""[{"op":"remove","path":"members[value eq \"{{Member2}}\"]"}]""", ScimSchemas.GroupType);
    }

    [Fact]
    public void Remove_of_a_required_attribute_is_refused() =>
        Assert.Equal("invalidValue", Refuse(User(), """[{"op":"remove","path":"userName"}]""").ScimType);

    // ---- RFC 7644 §3.5.2.3 replace ----

    [Fact]
    public void Rfc_replace_all_members()
    {
        var patched = Apply(Group(), """[{"op":"replace","path":"members","value":[{"display":"Babs Jensen","value":"a"},{"display":"James Smith","value":"b"}]}]""", ScimSchemas.GroupType);
        Assert.Equal(["a", "b"], MemberIds(patched));
        Assert.Null(patched["members"]![0]!["display"]); // readOnly: ignored as RFC 7644 §3.5.1 says
    }

    [Fact]
    public void Rfc_replace_the_work_address()
    {
        var user = Apply(User(), """[{"op":"add","path":"addresses","value":[{"type":"work","streetAddress":"100 Universal City Plaza"},{"type":"home","streetAddress":"456 Hollywood Blvd"}]}]""");
        var patched = Apply(user, """[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US","primary":true}}]""");
        Assert.Equal("911 Universal City Plaza", patched["addresses"]![0]!["streetAddress"]!.GetValue<string>());
        Assert.Equal("Hollywood", patched["addresses"]![0]!["locality"]!.GetValue<string>());
        Assert.Equal("456 Hollywood Blvd", patched["addresses"]![1]!["streetAddress"]!.GetValue<string>());
    }

    [Fact]
    public void Rfc_replace_a_sub_attribute_of_the_work_address()
    {
        var user = Apply(User(), """[{"op":"add","path":"addresses","value":[{"type":"work","streetAddress":"100 Universal City Plaza"}]}]""");
        var patched = Apply(user, """[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]""");
        Assert.Equal("1010 Broadway Ave", patched["addresses"]![0]!["streetAddress"]!.GetValue<string>());
    }

    [Fact]
    public void Rfc_replace_without_path()
    {
        var patched = Apply(User(), """[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],"nickName":"Babs"}}]""");
        Assert.Equal(2, patched["emails"]!.AsArray().Count);
        Assert.Equal("Babs", patched["nickName"]!.GetValue<string>());
    }

    [Fact]
    public void Replace_with_a_filter_matching_nothing_is_no_target() =>
        Assert.Equal("noTarget", Refuse(User(), """[{"op":"replace","path":"emails[type eq \"home\"].value","value":"x@y.z"}]""").ScimType);

    [Fact]
    public void Replace_of_a_missing_single_valued_attribute_adds_it() =>
        Assert.Equal("Guide", Apply(User(), """[{"op":"replace","path":"title","value":"Guide"}]""")["title"]!.GetValue<string>());

    [Fact]
    public void Attribute_names_are_case_insensitive_and_keep_the_existing_spelling()
    {
        var patched = Apply(User(), """[{"op":"replace","path":"DISPLAYNAME","value":"X"},{"op":"replace","path":"Name.GivenName","value":"B"}]""");
        Assert.Equal("X", patched["displayName"]!.GetValue<string>());
        Assert.Equal("B", patched["name"]!["givenName"]!.GetValue<string>());
        Assert.Null(patched["DISPLAYNAME"]);
    }

    // ---- mutability ----

    [Theory]
    [InlineData("""[{"op":"replace","path":"id","value":"other"}]""")]
    [InlineData("""[{"op":"replace","path":"meta.version","value":"W/\"9\""}]""")]
    [InlineData("""[{"op":"remove","path":"meta"}]""")]
    [InlineData("""[{"op":"add","path":"groups","value":[{"value":"g-2"}]}]""")]
    [InlineData("""[{"op":"replace","value":{"id":"other"}}]""")]
    public void ReadOnly_attributes_are_refused_with_mutability(string operations) =>
        Assert.Equal("mutability", Refuse(User(), operations).ScimType);

    [Fact]
    public void Immutable_member_value_cannot_be_changed()
    {
        Assert.Equal("mutability", Refuse(Group(), $$"""[{"op":"replace","path":"members[value eq \"{{Member1}}\"].value","value":"x"}]""", ScimSchemas.GroupType).ScimType);
    }

    [Fact]
    public void The_resource_passed_in_is_left_unchanged()
    {
        var user = User();
        var before = user.ToJsonString();
        Apply(user, """[{"op":"replace","path":"displayName","value":"X"},{"op":"remove","path":"emails"}]""");
        Assert.Equal(before, user.ToJsonString());
    }

    [Fact]
    public void Unknown_core_attribute_is_invalid_path() =>
        Assert.Equal("invalidPath", Refuse(User(), """[{"op":"replace","path":"favouriteColour","value":"x"}]""").ScimType);

    [Fact]
    public void Enterprise_attribute_by_qualified_path_creates_the_extension_and_declares_its_schema()
    {
        var patched = Apply(User(), $$"""[{"op":"add","path":"{{Enterprise}}:department","value":"Sales"}]""");
        Assert.Equal("Sales", patched[Enterprise]!["department"]!.GetValue<string>());
        Assert.Contains(Enterprise, patched["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));

        var removed = Apply(patched, $$"""[{"op":"remove","path":"{{Enterprise}}:department"}]""");
        Assert.Null(removed[Enterprise]);
        Assert.DoesNotContain(Enterprise, removed["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public void Custom_extension_attributes_are_kept_as_given()
    {
        const string Custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
        var patched = Apply(User(), $$"""[{"op":"add","path":"{{Custom}}:costCode","value":"42"}]""");
        Assert.Equal("42", patched[Custom]!["costCode"]!.GetValue<string>());
    }

    // ---- Microsoft Entra ID ----
    // Shapes from learn.microsoft.com, "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft
    // Entra ID" (Request/Response examples, sections "Update user [Multi-valued properties]", "[Single-valued
    // properties]", "Disable user", "Update group [Add members]", "[Remove members]"), and "Known issues and
    // resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service".

    [Fact]
    public void Entra_update_multi_valued_and_single_valued_properties()
    {
        var patched = Apply(User(), """
            [{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
             {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
             {"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]
            """);
        Assert.Equal("updatedEmail@microsoft.com", patched["emails"]![0]!["value"]!.GetValue<string>());
        Assert.True(patched["emails"]![0]!["primary"]!.GetValue<bool>());
        Assert.Equal("updatedFamilyName", patched["name"]!["familyName"]!.GetValue<string>());
        Assert.Equal("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", patched["userName"]!.GetValue<string>());
    }

    [Fact]
    public void Entra_disable_user_passes_the_value_through_as_sent()
    {
        Assert.False(Apply(User(), """[{"op":"Replace","path":"active","value":false}]""")["active"]!.GetValue<bool>());
        // The known-issues page: older jobs send "False" as a string; the service coerces it, PATCH keeps it.
        Assert.Equal("False", Apply(User(), """[{"op":"Replace","path":"active","value":"False"}]""")["active"]!.GetValue<string>());
    }

    [Fact]
    public void Entra_add_and_remove_members_with_value_arrays()
    {
        var added = Apply(Group(), """[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]""", ScimSchemas.GroupType);
        Assert.Equal([Member1, Member2, "f648f8d5ea4e4cd38e9c"], MemberIds(added));

        var removed = Apply(added, $$"""[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"},{"value":"{{Member1}}"}]}]""", ScimSchemas.GroupType);
        Assert.Equal([Member2], MemberIds(removed));

        // Removing someone who is not a member again changes nothing and is no error.
        Assert.Equal([Member2], MemberIds(Apply(removed, """[{"op":"Remove","path":"members","value":[{"value":"f648f8d5ea4e4cd38e9c"}]}]""", ScimSchemas.GroupType)));
    }

    [Fact]
    public void Entra_hundreds_of_members_in_one_add()
    {
        var values = string.Join(",", Enumerable.Range(0, 500).Select(i => $$"""{"value":"m{{i}}"}"""));
        var patched = Apply(Group(), $$"""[{"op":"Add","path":"members","value":[{{values}}]}]""", ScimSchemas.GroupType);
        Assert.Equal(502, MemberIds(patched).Count);
    }

    [Fact]
    public void Large_membership_changes_add_only_new_members_and_remove_only_the_given_ones()
    {
        var group = Group();
        group["members"] = new JsonArray(Enumerable.Range(0, 10_000).Select(i => (JsonNode?)new JsonObject { ["value"] = $"m{i}", ["type"] = "User" }).ToArray());
        // 1,000 values, the first half already members (one in another case: ids compare as members.value does).
        var adds = string.Join(",", Enumerable.Range(9_500, 1_000).Select(i => i == 9_500 ? """{"value":"M9500"}""" : $$"""{"value":"m{{i}}"}"""));
        var added = Apply(group, $$"""[{"op":"Add","path":"members","value":[{{adds}}]}]""", ScimSchemas.GroupType);
        Assert.Equal(10_500, MemberIds(added).Count);

        var removes = string.Join(",", Enumerable.Range(0, 1_000).Select(i => $$"""{"value":"m{{i * 2}}"}"""));
        var removed = Apply(added, $$"""[{"op":"Remove","path":"members","value":[{{removes}}]}]""", ScimSchemas.GroupType);
        Assert.Equal(9_500, MemberIds(removed).Count);
        Assert.DoesNotContain("m0", MemberIds(removed));
        Assert.Contains("m1", MemberIds(removed));
    }

    [Fact]
    public void Entra_replace_group_display_name() =>
        Assert.Equal("renamed", Apply(Group(), """[{"op":"Replace","path":"displayName","value":"renamed"}]""", ScimSchemas.GroupType)["displayName"]!.GetValue<string>());

    // learn.microsoft.com/en-us/answers/questions/1435791: Entra sends dotted and URN-qualified keys in a value object
    // without path ("name.formatted", "name.familyName", custom-schema attributes).
    [Fact]
    public void Entra_value_object_with_dotted_and_urn_qualified_keys()
    {
        var patched = Apply(User(), """
            [{"op":"replace","value":{"name.formatted":"test test2","name.familyName":"test","ENTERPRISE:employeeNumber":"701984","displayName":"T"}}]
            """.Replace("ENTERPRISE", Enterprise, StringComparison.Ordinal));
        Assert.Equal("test test2", patched["name"]!["formatted"]!.GetValue<string>());
        Assert.Equal("test", patched["name"]!["familyName"]!.GetValue<string>());
        Assert.Equal("Barbara", patched["name"]!["givenName"]!.GetValue<string>());
        Assert.Equal("701984", patched[Enterprise]!["employeeNumber"]!.GetValue<string>());
        Assert.Equal("T", patched["displayName"]!.GetValue<string>());
    }

    [Fact]
    public void Entra_manager_sent_as_an_id_becomes_the_manager_value()
    {
        var patched = Apply(User(), $$"""[{"op":"Add","path":"{{Enterprise}}:manager","value":"m-1"}]""");
        Assert.Equal("m-1", patched[Enterprise]!["manager"]!["value"]!.GetValue<string>());
        var cleared = Apply(patched, $$"""[{"op":"Remove","path":"{{Enterprise}}:manager"}]""");
        Assert.Null(cleared[Enterprise]);
    }

    [Fact]
    public void Extension_object_as_a_key_of_a_value_without_path_is_merged()
    {
        var patched = Apply(User(), """[{"op":"add","value":{"ENTERPRISE":{"department":"Ops","manager":{"value":"m-2"}}}}]""".Replace("ENTERPRISE", Enterprise, StringComparison.Ordinal));
        Assert.Equal("Ops", patched[Enterprise]!["department"]!.GetValue<string>());
        Assert.Equal("m-2", patched[Enterprise]!["manager"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void Add_with_a_value_filter_matching_nothing_creates_the_element()
    {
        var patched = Apply(User(), """[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0100"}]""");
        Assert.Equal("work", patched["phoneNumbers"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("+1 555 0100", patched["phoneNumbers"]![0]!["value"]!.GetValue<string>());
    }

    // ---- Okta ----
    // Shapes from developer.okta.com, "SCIM 2.0 protocol reference" (Update a specific User (PATCH), Update a
    // specific Group name, Add/Remove Group members).

    [Fact]
    public void Okta_deactivate_user_with_value_object_without_path() =>
        Assert.False(Apply(User(), """[{"op":"replace","value":{"active":false}}]""")["active"]!.GetValue<bool>());

    [Fact]
    public void Okta_group_rename_repeats_the_unchanged_id()
    {
        var patched = Apply(Group(), """[{"op":"replace","value":{"id":"g-1","displayName":"Test SCIMv2"}}]""", ScimSchemas.GroupType);
        Assert.Equal("Test SCIMv2", patched["displayName"]!.GetValue<string>());
        Assert.Equal("g-1", patched["id"]!.GetValue<string>());
    }

    [Fact]
    public void Okta_add_and_remove_group_members()
    {
        var added = Apply(Group(), """[{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}]""", ScimSchemas.GroupType);
        Assert.Contains("23a35c27-23d3-4c03-b4c5-6443c09e7173", MemberIds(added));
        var removed = Apply(added, """[{"op":"remove","path":"members[value eq \"23a35c27-23d3-4c03-b4c5-6443c09e7173\"]"}]""", ScimSchemas.GroupType);
        Assert.DoesNotContain("23a35c27-23d3-4c03-b4c5-6443c09e7173", MemberIds(removed));
    }
}
