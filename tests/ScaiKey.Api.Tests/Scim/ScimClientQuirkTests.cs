using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>
/// Requests exactly as Entra ID and Okta document sending them. Sources: Microsoft Learn, "Tutorial: Develop and plan
/// provisioning for a SCIM endpoint in Microsoft Entra ID" (request/response examples) and "Known issues and resolutions
/// with SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service"; Okta, "SCIM 2.0 protocol reference"
/// (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20).
/// </summary>
public sealed class ScimClientQuirkTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static JsonObject Op(string op, string? path, JsonNode? value)
    {
        var o = new JsonObject { ["op"] = op };
        if (path is not null)
        {
            o["path"] = path;
        }

        o["value"] = value;
        return o;
    }

    // Entra tutorial, "Update User [Multi-valued properties]" / Known issues: op is sent capitalised ("Replace", "Add").
    [Fact]
    public async Task Entra_capitalised_op_is_accepted()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var user = await ScimKit.CreateUserAsync(scim);
            var patched = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}",
                ScimKit.Patch(Op("Replace", "displayName", "Capital Op"), Op("Add", "title", "Lead")))).ReadJsonAsync(200);
            Assert.Equal("Capital Op", patched["displayName"]!.GetValue<string>());
            Assert.Equal("Lead", patched["title"]!.GetValue<string>());
        }
    }

    // Entra Known issues: "active" sent as the string "False" in PATCH (Disable User example: {"op":"Replace","path":"active","value":"False"}).
    [Fact]
    public async Task Entra_string_False_for_active_disables_the_user()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var user = await ScimKit.CreateUserAsync(scim);
            var patched = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}",
                ScimKit.Patch(Op("Replace", "active", "False")))).ReadJsonAsync(200);
            Assert.False(patched["active"]!.GetValue<bool>());
            Assert.Equal(UserStatus.Disabled, await app.DbAsync(db => db.Users.Where(u => u.Id == user.Id()).Select(u => u.Status).SingleAsync()));

            // And "True" on create (the same string form).
            var body = (JsonObject)ScimKit.NewUser($"t.{Guid.NewGuid():N}@example.com");
            body["active"] = "True";
            Assert.True((await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", body)).ReadJsonAsync(201))["active"]!.GetValue<bool>());
        }
    }

    // Entra Known issues ("PATCH without path: value object") and Okta reference (deactivate: {"op":"replace","value":{"active":false}}).
    [Fact]
    public async Task Value_objects_without_path_are_applied_attribute_by_attribute()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var user = await ScimKit.CreateUserAsync(scim);
            var patched = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}",
                ScimKit.Patch(Op("replace", null, new JsonObject { ["displayName"] = "No Path", ["active"] = "False" })))).ReadJsonAsync(200);
            Assert.Equal("No Path", patched["displayName"]!.GetValue<string>());
            Assert.False(patched["active"]!.GetValue<bool>());

            var okta = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}",
                ScimKit.Patch(Op("replace", null, new JsonObject { ["active"] = true })))).ReadJsonAsync(200);
            Assert.True(okta["active"]!.GetValue<bool>());
        }
    }

    // Entra tutorial, "Update User [Multi-valued properties]": path emails[type eq "work"].value.
    [Fact]
    public async Task Entra_work_email_path_changes_the_users_email()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var user = await ScimKit.CreateUserAsync(scim);
            var email = $"new.{Guid.NewGuid():N}@example.com";
            var patched = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{user.Id()}",
                ScimKit.Patch(Op("Replace", "emails[type eq \"work\"].value", email)))).ReadJsonAsync(200);
            Assert.Equal(email, patched["emails"]![0]!["value"]!.GetValue<string>());
            Assert.Equal(email, await app.DbAsync(db => db.Users.Where(u => u.Id == user.Id()).Select(u => u.Email).SingleAsync()));
        }
    }

    // Entra tutorial, "Get User by query" (userName eq before create) and Okta reference ("Create the user": GET ?filter=userName eq first).
    [Fact]
    public async Task UserName_eq_filter_before_create_finds_nothing_then_the_user()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var userName = $"Probe.{Guid.NewGuid():N}@example.com";
            var path = "/scim/v2/Users?filter=" + Uri.EscapeDataString($"userName eq \"{userName}\"") + "&startIndex=1&count=100";
            var before = await (await scim.GetAsync(path)).ReadJsonAsync(200);
            Assert.Equal(0, before["totalResults"]!.GetValue<int>());
            Assert.Equal("urn:ietf:params:scim:api:messages:2.0:ListResponse", before["schemas"]![0]!.GetValue<string>());

            var created = await ScimKit.CreateUserAsync(scim, userName);
            var after = await (await scim.GetAsync(path.Replace(userName, userName.ToLowerInvariant(), StringComparison.Ordinal))).ReadJsonAsync(200);
            Assert.Equal(1, after["totalResults"]!.GetValue<int>());
            Assert.Equal(created.Id(), after["Resources"]![0]!.Id());
        }
    }

    // Entra tutorial, "Update Group [Add Members]" / "[Remove Members]" and Okta reference ("Update a specific group membership"):
    // members added and removed by value lists and by members[value eq "id"] paths, hundreds per request.
    [Fact]
    public async Task Group_membership_patches_of_hundreds_of_members()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var ids = new List<string>();
            for (var i = 0; i < 300; i++)
            {
                ids.Add(await app.DbAsync(async db =>
                {
                    var user = new User
                    {
                        Id = Guid.CreateVersion7().ToString(), TenantId = tenant, Email = $"m{i}@example.com", EmailNormalized = $"m{i}@example.com",
                        Locale = "en", Timezone = "UTC", SearchText = "", IdentitySource = IdentitySource.Scim, Version = 1, CreatedAt = DateTime.UtcNow,
                    };
                    db.Users.Add(user);
                    await db.SaveChangesAsync();
                    return user.Id;
                }));
            }

            var group = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new { schemas = new[] { ScimKit.GroupSchema }, displayName = "Big" })).ReadJsonAsync(201);
            var path = $"/scim/v2/Groups/{group.Id()}";
            var add = new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["value"] = id }).ToArray());
            await (await scim.SendAsync(HttpMethod.Patch, path, ScimKit.Patch(Op("Add", "members", add)))).ShouldBeAsync(204);
            Assert.Equal(300, await app.DbAsync(db => db.GroupMembers.CountAsync(m => m.GroupId == group.Id())));

            // Entra: remove with a value list; Okta: remove by a members[value eq] path.
            var removeList = new JsonArray(ids.Take(100).Select(id => (JsonNode)new JsonObject { ["value"] = id }).ToArray());
            var ops = new List<JsonObject> { Op("Remove", "members", removeList) };
            ops.AddRange(ids.Skip(100).Take(100).Select(id => Op("remove", $"members[value eq \"{id}\"]", null)));
            await (await scim.SendAsync(HttpMethod.Patch, path, ScimKit.Patch([.. ops]))).ShouldBeAsync(204);
            Assert.Equal(100, await app.DbAsync(db => db.GroupMembers.CountAsync(m => m.GroupId == group.Id())));

            var read = await (await scim.GetAsync(path)).ReadJsonAsync(200);
            Assert.Equal(ids.Skip(200).Order(StringComparer.Ordinal), read["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal));

            // Okta: rename with a value object without path (id included).
            await (await scim.SendAsync(HttpMethod.Patch, path, ScimKit.Patch(Op("replace", null, new JsonObject { ["id"] = group.Id(), ["displayName"] = "Renamed" })))).ShouldBeAsync(204);
            Assert.Equal("Renamed", (await (await scim.GetAsync(path + "?excludedAttributes=members")).ReadJsonAsync(200))["displayName"]!.GetValue<string>());
        }
    }

    // A group as a member of a group: nested in ScaiKey's tree; a cycle is refused.
    [Fact]
    public async Task Groups_can_be_members_of_groups_without_cycles()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var parent = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new { displayName = "Parent" })).ReadJsonAsync(201);
            var child = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new { displayName = "Child" })).ReadJsonAsync(201);
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{parent.Id()}",
                ScimKit.Patch(Op("add", "members", new JsonArray(new JsonObject { ["value"] = child.Id() }))))).ShouldBeAsync(204);
            var read = await (await scim.GetAsync($"/scim/v2/Groups/{parent.Id()}")).ReadJsonAsync(200);
            Assert.Equal("Group", read["members"]![0]!["type"]!.GetValue<string>());
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{child.Id()}",
                ScimKit.Patch(Op("add", "members", new JsonArray(new JsonObject { ["value"] = parent.Id() }))))).ReadScimErrorAsync(400, "invalidValue");
        }
    }
}
