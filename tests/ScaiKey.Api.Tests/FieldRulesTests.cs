using ScaiKey.Api.Groups;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Tests;

/// <summary>Unit tests for the dense rules: address formats, password policy, tree walks.</summary>
public sealed class FieldRulesTests
{
    [Theory]
    [InlineData("ada@example.com", "ada@example.com")]
    [InlineData("Ada.Lovelace@Example.COM", "Ada.Lovelace@example.com")]
    [InlineData("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk")]
    [InlineData("o'brien@example.ie", "o'brien@example.ie")]
    [InlineData("jörg@bücher.de", "jörg@bücher.de")]
    public void Valid_emails_are_normalised_by_domain_only(string input, string expected)
    {
        Assert.Null(FieldRules.EmailError(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("plainaddress")]
    [InlineData("two@@example.com")]
    [InlineData("a@b@example.com")]
    [InlineData("@example.com")]
    [InlineData("ada@")]
    [InlineData(".ada@example.com")]
    [InlineData("ada.@example.com")]
    [InlineData("ad..a@example.com")]
    [InlineData("ada lovelace@example.com")]
    [InlineData("ada@localhost")]
    [InlineData("ada@example")]
    [InlineData("ada@example.test")]
    [InlineData("ada@example.local")]
    [InlineData("ada@-example.com")]
    [InlineData("ada@example.123")]
    [InlineData("ada@exa_mple.com")]
    [InlineData("ada(comment)@example.com")]
    [InlineData(" ada@example.com")]
    public void Invalid_emails_give_a_reason(string input) => Assert.NotNull(FieldRules.EmailError(input, out _));

    [Fact]
    public void Local_part_over_64_characters_is_refused() =>
        Assert.Contains("too long", FieldRules.EmailError(new string('a', 65) + "@example.com", out _));

    [Theory]
    [InlineData("UTC", true)]
    [InlineData("Europe/Paris", true)]
    [InlineData("America/Argentina/Buenos_Aires", true)]
    [InlineData("Mars/Base", false)]
    [InlineData("../../etc/passwd", false)]
    [InlineData("", false)]
    public void Timezones_must_be_iana_ids(string value, bool valid) => Assert.Equal(valid, FieldRules.TimezoneError(value) is null);

    [Theory]
    [InlineData("en", true)]
    [InlineData("pt-BR", true)]
    [InlineData("zh-Hant-TW", true)]
    [InlineData("es-419", true)]
    [InlineData("english", false)]
    [InlineData("en_US", false)]
    [InlineData("", false)]
    public void Locales_must_be_bcp47(string value, bool valid) => Assert.Equal(valid, FieldRules.LocaleError(value) is null);

    [Theory]
    [InlineData("+14155550123", true)]
    [InlineData("+442071838750", true)]
    [InlineData("4155550123", false)]
    [InlineData("+0123456", false)]
    [InlineData("+1 415 555 0123", false)]
    [InlineData("+1234567890123456", false)]
    public void Phones_must_be_e164(string value, bool valid) => Assert.Equal(valid, FieldRules.PhoneError(value) is null);

    [Theory]
    [InlineData("Quartz-Lantern-93!", "ada@example.com", 0)]
    [InlineData("short-1!", "ada@example.com", 1)]
    [InlineData("password1234", "ada@example.com", 1)]
    [InlineData("QWERTYUIOP123", "ada@example.com", 1)]
    [InlineData("my-ADA-password-x", "ada@example.com", 1)]
    [InlineData("a-long-password-with-b-in-it", "b@example.com", 0)]
    public void Password_policy_counts_each_broken_rule(string password, string email, int violations) =>
        Assert.Equal(violations, PasswordPolicy.Violations(password, email, new PasswordPolicySettings()).Count());

    [Fact]
    public void Password_policy_respects_tenant_switches()
    {
        var lenient = new PasswordPolicySettings(MinLength: 8, BlockCommonPasswords: false, DisallowEmailLocalPart: false);
        Assert.Empty(PasswordPolicy.Violations("password1234", "password@example.com", lenient));
        Assert.Single(PasswordPolicy.Violations(new string('x', 300), null, new PasswordPolicySettings()));
    }

    [Fact]
    public void Argon2id_hashes_are_salted_phc_strings_with_owasp_parameters()
    {
        var hasher = new PasswordHasher();
        var first = hasher.Hash("Quartz-Lantern-93!");
        var second = hasher.Hash("Quartz-Lantern-93!");
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", first);
        Assert.NotEqual(first, second);
        Assert.True(hasher.Verify(first, "Quartz-Lantern-93!"));
        Assert.False(hasher.Verify(first, "quartz-lantern-93!"));
        Assert.False(hasher.NeedsRehash(first));
        Assert.True(new PasswordHasher(iterations: 3).NeedsRehash(first));
        Assert.False(hasher.Verify("$2b$10$notargon", "x"));
    }

    [Fact]
    public void Subtree_walks_descendants_and_survives_cycles()
    {
        var nodes = new (string, string?)[] { ("a", null), ("b", "a"), ("c", "b"), ("d", null), ("x", "y"), ("y", "x") };
        Assert.Equal(["a", "b", "c"], Hierarchy.Subtree(nodes, "a")!.Order());
        Assert.Equal(["c"], Hierarchy.Subtree(nodes, "c"));
        Assert.Null(Hierarchy.Subtree(nodes, "missing"));
        Assert.Equal(["x", "y"], Hierarchy.Subtree(nodes, "x")!.Order());
    }

    [Fact]
    public void Moving_a_node_below_itself_is_a_cycle()
    {
        var parents = new Dictionary<string, string?> { ["a"] = null, ["b"] = "a", ["c"] = "b", ["d"] = null };
        Assert.True(Hierarchy.WouldCycle(parents, "a", "c"));
        Assert.True(Hierarchy.WouldCycle(parents, "a", "a"));
        Assert.False(Hierarchy.WouldCycle(parents, "c", "d"));
        Assert.False(Hierarchy.WouldCycle(parents, "d", "c"));
    }

    [Theory]
    [InlineData("Acme Corp", "acme-corp")]
    [InlineData("Crème Brûlée GmbH", "creme-brulee-gmbh")]
    [InlineData("  --Hello__World--  ", "hello-world")]
    public void Slugs_are_derived_from_names(string name, string slug) => Assert.Equal(slug, TenantEndpoints.Slugify(name));
}
