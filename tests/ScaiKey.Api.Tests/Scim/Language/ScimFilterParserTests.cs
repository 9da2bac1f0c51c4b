using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>The filter grammar of RFC 7644 §3.4.2.2 and the PATCH path of §3.5.2.</summary>
public sealed class ScimFilterParserTests
{
    private static ScimFilter Parse(string text)
    {
        Assert.True(ScimFilterParser.TryParse(text, out var filter, out var error), $"'{text}' was refused: {error?.Detail}");
        return filter;
    }

    private static ScimError Refuse(string text)
    {
        var ok = ScimFilterParser.TryParse(text, out var filter, out var error);
        Assert.False(ok, $"'{text}' was accepted as {filter}");
        Assert.Equal("invalidFilter", error!.ScimType);
        Assert.Equal(400, error.Status);
        return error;
    }

    // Every example filter of RFC 7644 §3.4.2.2 (Figure 1's list).
    [Theory]
    [InlineData("userName eq \"bjensen\"")]
    [InlineData("name.familyName co \"O'Malley\"")]
    [InlineData("userName sw \"J\"")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"")]
    [InlineData("title pr")]
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified ge \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified lt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified le \"2011-05-13T04:42:34Z\"")]
    [InlineData("title pr and userType eq \"Employee\"")]
    [InlineData("title pr or userType eq \"Intern\"")]
    [InlineData("schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"")]
    [InlineData("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")")]
    [InlineData("userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")")]
    [InlineData("userType eq \"Employee\" and (emails.type eq \"work\")")]
    [InlineData("userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]")]
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]")]
    public void Rfc7644_example_filters_parse(string text) => Parse(text);

    [Fact]
    public void Comparison_holds_path_operator_and_value()
    {
        var filter = Assert.IsType<ScimCompare>(Parse("name.familyName co \"O'Malley\""));
        Assert.Equal(new ScimAttrPath(null, "name", "familyName"), filter.Path);
        Assert.Equal(ScimCompareOp.Co, filter.Op);
        Assert.Equal("O'Malley", filter.Value!.GetValue<string>());
    }

    [Theory]
    [InlineData("eq", "Eq")]
    [InlineData("NE", "Ne")]
    [InlineData("Co", "Co")]
    [InlineData("sW", "Sw")]
    [InlineData("EW", "Ew")]
    [InlineData("gt", "Gt")]
    [InlineData("GE", "Ge")]
    [InlineData("lt", "Lt")]
    [InlineData("Le", "Le")]
    public void Operators_are_case_insensitive(string op, string expected) =>
        Assert.Equal(expected, Assert.IsType<ScimCompare>(Parse($"userName {op} \"x\"")).Op.ToString());

    [Fact]
    public void Pr_and_keywords_are_case_insensitive()
    {
        var filter = Assert.IsType<ScimOr>(Parse("title PR OR NOT (userType Eq \"x\") AND active eq TRUE"));
        Assert.IsType<ScimPresent>(filter.Left);
        Assert.IsType<ScimAnd>(filter.Right);
    }

    [Fact]
    public void And_binds_tighter_than_or()
    {
        var filter = Assert.IsType<ScimOr>(Parse("a eq 1 or b eq 2 and c eq 3"));
        Assert.IsType<ScimCompare>(filter.Left);
        var and = Assert.IsType<ScimAnd>(filter.Right);
        Assert.Equal("b", Assert.IsType<ScimCompare>(and.Left).Path.Attribute);
    }

    [Fact]
    public void Not_binds_tighter_than_and()
    {
        var filter = Assert.IsType<ScimAnd>(Parse("not (a eq 1) and b eq 2"));
        Assert.IsType<ScimNot>(filter.Left);
    }

    [Fact]
    public void Parentheses_group()
    {
        var filter = Assert.IsType<ScimAnd>(Parse("(a eq 1 or b eq 2) and c eq 3"));
        Assert.IsType<ScimOr>(filter.Left);
    }

    [Fact]
    public void Value_path_with_logical_filter()
    {
        var filter = Assert.IsType<ScimValuePath>(Parse("emails[type eq \"work\" and value co \"x\"]"));
        Assert.Equal(new ScimAttrPath(null, "emails", null), filter.Path);
        var and = Assert.IsType<ScimAnd>(filter.Filter);
        Assert.Equal(new ScimAttrPath(null, "type", null), Assert.IsType<ScimCompare>(and.Left).Path);
    }

    [Fact]
    public void Value_path_followed_by_sub_attribute_comparison_means_the_element_matching_both()
    {
        var filter = Assert.IsType<ScimValuePath>(Parse("emails[type eq \"work\"].value eq \"a@b.c\""));
        var and = Assert.IsType<ScimAnd>(filter.Filter);
        Assert.Equal("value", Assert.IsType<ScimCompare>(and.Right).Path.Attribute);
    }

    [Fact]
    public void Schema_qualified_extension_attribute_keeps_its_urn()
    {
        var filter = Assert.IsType<ScimCompare>(Parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Sales\""));
        Assert.Equal(new ScimAttrPath(ScimSchemas.EnterpriseUser, "department", null), filter.Path);

        var sub = Assert.IsType<ScimCompare>(Parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m\""));
        Assert.Equal(new ScimAttrPath(ScimSchemas.EnterpriseUser, "manager", "value"), sub.Path);
    }

    [Fact]
    public void String_literals_use_json_escapes()
    {
        var filter = Assert.IsType<ScimCompare>(Parse("displayName eq \"a\\\"b\\\\c\\u00e9\\n\""));
        Assert.Equal("a\"b\\cé\n", filter.Value!.GetValue<string>());
    }

    [Theory]
    [InlineData("x eq 42", 42)]
    [InlineData("x eq -1.5", -1.5)]
    [InlineData("x eq 1e3", 1000)]
    [InlineData("x eq 2.5E-1", 0.25)]
    public void Number_literals(string text, double expected) =>
        Assert.Equal((decimal)expected, ScimJson.AsDecimal(Assert.IsType<ScimCompare>(Parse(text)).Value));

    [Theory]
    [InlineData("x eq true", true)]
    [InlineData("x eq False", false)]
    public void Boolean_literals_are_case_insensitive(string text, bool expected) =>
        Assert.Equal(expected, ScimJson.AsBoolean(Assert.IsType<ScimCompare>(Parse(text)).Value));

    [Fact]
    public void Null_literal_is_a_null_value()
    {
        var filter = Assert.IsType<ScimCompare>(Parse("title eq null"));
        Assert.Null(filter.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("userName")]
    [InlineData("userName eq")]
    [InlineData("userName xx \"a\"")]
    [InlineData("userName eq \"unterminated")]
    [InlineData("userName eq 'single'")]
    [InlineData("userName eq bjensen")]
    [InlineData("userName eq \"a\" and")]
    [InlineData("userName eq \"a\" or or b eq 1")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("userName eq \"a\")")]
    [InlineData("emails[type eq \"work\"")]
    [InlineData("emails[type eq \"work\"]]")]
    [InlineData("emails[addresses[type eq \"x\"]]")]
    [InlineData("emails[]")]
    [InlineData("not userName eq \"a\"")]
    [InlineData("1abc eq \"a\"")]
    [InlineData("name.given.name eq \"a\"")]
    [InlineData("http://x:userName eq \"a\"")]
    [InlineData("userName eq \"bad \\x escape\"")]
    [InlineData("userName eq 01")]
    [InlineData("userName eq 1.")]
    [InlineData("userName eq \"a\" userName eq \"b\"")]
    [InlineData("userName = \"a\"")]
    [InlineData("emails[type eq \"work\"].value")]
    [InlineData("emails[type eq \"work\"].1x eq \"a\"")]
    public void Malformed_filters_are_invalid_filter_never_an_exception(string text) => Refuse(text);

    [Fact]
    public void Error_names_the_position_and_what_was_expected()
    {
        var error = Refuse("userName xx \"a\"");
        Assert.Contains("position 9", error.Detail);
        Assert.Contains("operator", error.Detail);
    }

    [Theory]
    [InlineData("", "(")]
    [InlineData("", "not(")]
    [InlineData("", "not (")]
    [InlineData("emails[type eq \"x\" and ", "(")]
    public void Ten_thousand_levels_of_nesting_are_refused_without_exhausting_the_stack(string prefix, string opener)
    {
        var text = prefix + string.Concat(Enumerable.Repeat(opener, 10_000)) + "a eq 1" + new string(')', 10_000);
        var error = Refuse(text);
        Assert.Contains("nests deeper", error.Detail);
    }

    [Fact]
    public void Nesting_within_the_limit_parses()
    {
        var depth = ScimFilterParser.MaxDepth;
        Parse(new string('(', depth) + "a eq 1" + new string(')', depth));
        Refuse(new string('(', depth + 1) + "a eq 1" + new string(')', depth + 1));
    }

    [Fact]
    public void A_long_or_chain_is_kept_shallow_and_a_huge_one_refused()
    {
        var terms = Enumerable.Range(0, 500).Select(i => $"id eq \"{i}\"");
        var filter = Parse(string.Join(" or ", terms));
        Assert.True(Depth(filter) <= 12, $"depth {Depth(filter)}");

        Refuse(string.Join(" or ", Enumerable.Range(0, ScimFilterParser.MaxClauses + 1).Select(i => $"id eq \"{i}\"")));
    }

    private static int Depth(ScimFilter filter) => filter switch
    {
        ScimOr either => 1 + Math.Max(Depth(either.Left), Depth(either.Right)),
        ScimAnd both => 1 + Math.Max(Depth(both.Left), Depth(both.Right)),
        ScimNot negated => 1 + Depth(negated.Inner),
        _ => 1,
    };

    // ---- PATCH paths (RFC 7644 §3.5.2) ----

    private static ScimPath ParsePath(string text)
    {
        Assert.True(ScimFilterParser.TryParsePath(text, out var path, out var error), $"'{text}' was refused: {error?.Detail}");
        return path;
    }

    [Fact]
    public void Path_plain_and_sub_attribute()
    {
        Assert.Equal(new ScimPath(new ScimAttrPath(null, "userName", null), null, null), ParsePath("userName"));
        Assert.Equal(new ScimPath(new ScimAttrPath(null, "name", "familyName"), null, null), ParsePath("name.familyName"));
    }

    [Fact]
    public void Path_value_filter_with_trailing_sub_attribute()
    {
        var path = ParsePath("emails[type eq \"work\"].value");
        Assert.Equal(new ScimAttrPath(null, "emails", null), path.Attribute);
        Assert.Equal("value", path.SubAttribute);
        Assert.Equal("type", Assert.IsType<ScimCompare>(path.ValueFilter).Path.Attribute);
    }

    [Fact]
    public void Path_members_value_filter()
    {
        var path = ParsePath("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]");
        Assert.Equal("members", path.Attribute.Attribute);
        Assert.Null(path.SubAttribute);
        Assert.Equal("2819c223-7f76-453a-919d-413861904646", Assert.IsType<ScimCompare>(path.ValueFilter).Value!.GetValue<string>());
    }

    [Fact]
    public void Path_schema_qualified_with_sub_attribute()
    {
        var path = ParsePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        Assert.Equal(new ScimAttrPath(ScimSchemas.EnterpriseUser, "manager", "value"), path.Attribute);
    }

    [Theory]
    [InlineData("")]
    [InlineData("emails[type eq \"work\"")]
    [InlineData("emails[type eq]")]
    [InlineData("name.familyName[type eq \"x\"]")]
    [InlineData("emails[type eq \"work\"] value")]
    [InlineData("emails[type eq \"work\"].")]
    [InlineData("userName eq \"x\"")]
    [InlineData("\"userName\"")]
    public void Malformed_paths_are_invalid_path(string text)
    {
        Assert.False(ScimFilterParser.TryParsePath(text, out var path, out var error), $"accepted as {path}");
        Assert.Equal("invalidPath", error!.ScimType);
    }
}
