using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Scim.Language;
using ScaiKey.Data;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests.Scim.Language;

/// <summary>
/// Filters and sortBy translated into EF Core and run on a real database (SQLite, or PostgreSQL when
/// SCAIKEY_TEST_POSTGRES is set): the same answers on both, and the same as the in-memory rules.
/// </summary>
public sealed class ScimQueryTests(ScimQueryTests.Fixture fixture) : IClassFixture<ScimQueryTests.Fixture>
{
    public const string A = "qa-A1";
    public const string B = "qa-b2";
    public const string C = "qa-c3";
    public const string G1 = "qg-1";
    public const string G2 = "qg-2";
    public const string G3 = "qg-3";

    public sealed class Fixture : ScaiKeyApp, IAsyncLifetime
    {
        public string TenantId { get; private set; } = null!;

        public new async Task InitializeAsync()
        {
            await base.InitializeAsync();
            TenantId = await CreateTenantAsync();
            var other = await CreateTenantAsync();
            await DbAsync(async db =>
            {
                db.Users.AddRange(
                    NewUser(A, TenantId, "Alice@Example.com", "AliceW", "Alice", "Wonder", "Alice Wonder", "Ext-A", UserStatus.Active, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), null),
                    NewUser(B, TenantId, "bob@example.org", null, "Bob", "Builder", "ÉMILE bob", null, UserStatus.Disabled,
                        new DateTime(2024, 2, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc)),
                    NewUser(C, TenantId, "carol@example.com", "carol", null, null, null, "ext-c", UserStatus.Locked, new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc), null),
                    NewUser("qa-other", other, "alice@example.com", "alicew", "Alice", "Wonder", "Alice Wonder", "Ext-A", UserStatus.Active, DateTime.UtcNow, null));
                db.Groups.AddRange(
                    new Group { Id = G1, TenantId = TenantId, Name = "Tour Guides", ExternalId = "G-Ext", CreatedAt = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc) },
                    new Group { Id = G2, TenantId = TenantId, Name = "Sales", ParentGroupId = G1, CreatedAt = new DateTime(2024, 2, 1, 0, 0, 0, DateTimeKind.Utc) },
                    new Group { Id = G3, TenantId = TenantId, Name = "sales team", CreatedAt = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc) });
                db.GroupMembers.AddRange(
                    new GroupMember { GroupId = G1, UserId = A, TenantId = TenantId, CreatedAt = DateTime.UtcNow },
                    new GroupMember { GroupId = G1, UserId = B, TenantId = TenantId, CreatedAt = DateTime.UtcNow });
                await db.SaveChangesAsync();
            });
        }

        Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

        private static User NewUser(string id, string tenant, string email, string? username, string? first, string? last, string? display,
            string? externalId, UserStatus status, DateTime created, DateTime? updated)
        {
            var user = new User
            {
                Id = id, TenantId = tenant, Email = email, EmailNormalized = email.ToLowerInvariant(), Username = username,
                UsernameNormalized = username?.ToLowerInvariant(), FirstName = first, LastName = last, DisplayName = display, ExternalId = externalId,
                Locale = "en", Timezone = "UTC", Status = status, CreatedAt = created, UpdatedAt = updated, SearchText = string.Empty,
                IdentitySource = IdentitySource.Scim,
            };
            user.SearchText = string.Join('\n', new[] { email, username, first, last, display }.Where(s => s is not null)).ToLowerInvariant();
            return user;
        }
    }

    private Task<string[]> UsersAsync(string filter) => fixture.DbAsync(async db =>
    {
        Assert.True(ScimFilterParser.TryParse(filter, out var parsed, out var parseError), parseError?.Detail);
        Assert.True(ScimUserQuery.TryTranslate(db, parsed, out var predicate, out var error), $"{filter}: {error?.Detail}");
        return await db.Users.AsNoTracking().Where(u => u.TenantId == fixture.TenantId).Where(predicate)
            .Select(u => u.Id).OrderBy(id => id).ToArrayAsync();
    });

    private Task<string[]> GroupsAsync(string filter) => fixture.DbAsync(async db =>
    {
        Assert.True(ScimFilterParser.TryParse(filter, out var parsed, out var parseError), parseError?.Detail);
        Assert.True(ScimGroupQuery.TryTranslate(db, parsed, out var predicate, out var error), $"{filter}: {error?.Detail}");
        return await db.Groups.AsNoTracking().Where(g => g.TenantId == fixture.TenantId).Where(predicate)
            .Select(g => g.Id).OrderBy(id => id).ToArrayAsync();
    });

    private async Task AssertUsersAsync(string filter, params string[] expected) =>
        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(await UsersAsync(filter)),
            $"{filter}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", await UsersAsync(filter))}]");

    private async Task AssertGroupsAsync(string filter, params string[] expected) =>
        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(await GroupsAsync(filter)),
            $"{filter}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", await GroupsAsync(filter))}]");

    [Fact]
    public async Task UserName_is_the_username_else_the_email_and_case_insensitive()
    {
        await AssertUsersAsync("userName eq \"alicew\"", A);
        await AssertUsersAsync("userName eq \"ALICEW\"", A);
        await AssertUsersAsync("userName eq \"Bob@EXAMPLE.org\"", B);
        await AssertUsersAsync("userName eq \"alice@example.com\""); // Alice has a username: her email is not her userName
        await AssertUsersAsync("userName sw \"A\"", A);
        await AssertUsersAsync("userName co \"EXAMPLE.ORG\"", B);
        await AssertUsersAsync("userName ew \"OL\"", C);
        await AssertUsersAsync("userName gt \"b\"", B, C);
        await AssertUsersAsync("userName le \"bob@example.org\"", A, B);
        await AssertUsersAsync("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"carol\"", C);
    }

    [Fact]
    public async Task Id_and_externalId_are_case_exact()
    {
        await AssertUsersAsync("id eq \"qa-A1\"", A);
        await AssertUsersAsync("id eq \"qa-a1\"");
        await AssertUsersAsync("id sw \"qa-A\"", A);
        await AssertUsersAsync("id sw \"QA\"");
        await AssertUsersAsync("id ew \"A1\"", A);
        await AssertUsersAsync("id ew \"a1\"");
        await AssertUsersAsync("id co \"b\"", B);
        await AssertUsersAsync("externalId eq \"Ext-A\"", A);
        await AssertUsersAsync("externalId eq \"ext-a\"");
        await AssertUsersAsync("externalId pr", A, C);
        await AssertUsersAsync("not (externalId pr)", B);
        await AssertUsersAsync("externalId eq null", B);
    }

    [Fact]
    public async Task Names_fold_ascii_letters_identically_on_both_databases()
    {
        await AssertUsersAsync("displayName eq \"alice wonder\"", A);
        await AssertUsersAsync("displayName co \"WOND\"", A);
        await AssertUsersAsync("displayName eq \"ÉMILE BOB\"", B);
        // Non-ASCII letters compare as stored on both databases (PostgreSQL's lower() would fold É, SQLite's not).
        await AssertUsersAsync("displayName eq \"émile bob\"");
        await AssertUsersAsync("name.givenName sw \"AL\"", A);
        await AssertUsersAsync("name.familyName eq \"wonder\"", A);
        await AssertUsersAsync("displayName ne \"alice wonder\"", B, C);
        await AssertUsersAsync("name pr", A, B);
    }

    [Fact]
    public async Task Emails_are_the_scaikey_email_of_type_work()
    {
        await AssertUsersAsync("emails eq \"ALICE@example.com\"", A);
        await AssertUsersAsync("emails.value co \"example.com\"", A, C);
        await AssertUsersAsync("emails[type eq \"work\"].value eq \"carol@example.com\"", C);
        await AssertUsersAsync("emails[type eq \"home\"]");
        await AssertUsersAsync("emails[type eq \"work\" and value co \"example.org\"]", B);
        await AssertUsersAsync("emails[primary eq true and value sw \"carol\"]", C);
        await AssertUsersAsync("emails.type eq \"work\"", A, B, C);
    }

    [Fact]
    public async Task Active_and_meta_dates()
    {
        await AssertUsersAsync("active eq true", A, C);
        await AssertUsersAsync("active eq false", B);
        await AssertUsersAsync("active ne true", B);
        await AssertUsersAsync("meta.created gt \"2024-01-15T00:00:00Z\"", B, C);
        await AssertUsersAsync("meta.created eq \"2024-01-01T01:00:00+01:00\"", A);
        await AssertUsersAsync("meta.lastModified ge \"2024-03-01T00:00:00Z\"", B, C);
        await AssertUsersAsync("meta.lastModified lt \"2024-03-01T00:00:00Z\"", A);
    }

    [Fact]
    public async Task Logical_operators_and_grouping()
    {
        await AssertUsersAsync("userName eq \"alicew\" or (active eq false and name.givenName eq \"bob\")", A, B);
        await AssertUsersAsync("not (userName eq \"alicew\" or active eq false)", C);
        await AssertUsersAsync("emails co \"example\" and not (emails ew \".org\")", A, C);
    }

    [Theory]
    [InlineData("title eq \"x\"", "title")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"", "department")]
    [InlineData("addresses[type eq \"work\"]", "addresses")]
    [InlineData("emails[display eq \"x\"]", "emails.display")]
    [InlineData("active gt true", "active")]
    [InlineData("meta.created co \"2024\"", "meta.created")]
    [InlineData("userName eq 5", "userName")]
    [InlineData("name.formatted pr", "name.formatted")]
    public async Task Unfilterable_attributes_are_invalid_filter_naming_them(string filter, string named) => await fixture.DbAsync(db =>
    {
        Assert.True(ScimFilterParser.TryParse(filter, out var parsed, out _));
        Assert.False(ScimUserQuery.TryTranslate(db, parsed, out _, out var error));
        Assert.Equal("invalidFilter", error!.ScimType);
        Assert.Contains(named, error.Detail);
        return Task.CompletedTask;
    });

    [Fact]
    public async Task Groups_by_name_external_id_and_members()
    {
        await AssertGroupsAsync("displayName eq \"tour guides\"", G1);
        await AssertGroupsAsync("displayName sw \"SALES\"", G2, G3);
        await AssertGroupsAsync("externalId eq \"G-Ext\"", G1);
        await AssertGroupsAsync($"members eq \"{A}\"", G1);
        await AssertGroupsAsync($"members.value eq \"{G2}\"", G1); // a child group is a member of type Group
        await AssertGroupsAsync($"members[value eq \"{B}\" and type eq \"User\"]", G1);
        await AssertGroupsAsync($"members[value eq \"{G2}\" and type eq \"User\"]");
        await AssertGroupsAsync("members pr", G1);
        await AssertGroupsAsync("not (members pr)", G2, G3);
        await AssertGroupsAsync("meta.created ge \"2024-02-01T00:00:00Z\"", G2, G3);
        await fixture.DbAsync(db =>
        {
            Assert.True(ScimFilterParser.TryParse("members.display eq \"x\"", out var parsed, out _));
            Assert.False(ScimGroupQuery.TryTranslate(db, parsed, out _, out var error));
            Assert.Contains("members.display", error!.Detail);
            return Task.CompletedTask;
        });
    }

    private Task<string[]> SortedUsersAsync(string? sortBy, bool descending) => fixture.DbAsync(async db =>
    {
        var query = db.Users.AsNoTracking().Where(u => u.TenantId == fixture.TenantId);
        Assert.True(ScimUserQuery.TryOrder(db, query, sortBy, descending, out var ordered, out var error), error?.Detail);
        return await ordered.Select(u => u.Id).ToArrayAsync();
    });

    [Fact]
    public async Task SortBy_orders_with_unassigned_values_last_and_id_as_tie_breaker()
    {
        Assert.Equal([A, B, C], await SortedUsersAsync("userName", false));
        Assert.Equal([C, B, A], await SortedUsersAsync("userName", true));
        Assert.Equal([A, B, C], await SortedUsersAsync("displayName", false));
        Assert.Equal([B, A, C], await SortedUsersAsync("displayName", true));
        Assert.Equal([C, B, A], await SortedUsersAsync("meta.created", true));
        Assert.Equal([A, B, C], await SortedUsersAsync(null, false));
        Assert.Equal([A, B, C], await SortedUsersAsync("name.givenName", false));
    }

    [Fact]
    public async Task SortBy_refuses_what_it_cannot_sort() => await fixture.DbAsync(db =>
    {
        Assert.False(ScimUserQuery.TryOrder(db.Users, "title", false, out _, out var unknown));
        Assert.Equal("invalidValue", unknown!.ScimType);
        Assert.False(ScimUserQuery.TryOrder(db.Users, "!!", false, out _, out var malformed));
        Assert.Equal("invalidPath", malformed!.ScimType);
        Assert.True(ScimGroupQuery.TryOrder(db.Groups, "displayName", false, out _, out _));
        return Task.CompletedTask;
    });

    [Fact]
    public async Task Group_sort_by_display_name() => Assert.Equal([G2, G3, G1], await fixture.DbAsync(async db =>
    {
        Assert.True(ScimGroupQuery.TryOrder(db, db.Groups.AsNoTracking().Where(g => g.TenantId == fixture.TenantId), "displayName", false, out var ordered, out _));
        return await ordered.Select(g => g.Id).ToArrayAsync();
    }));
}
