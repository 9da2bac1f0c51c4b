using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>
/// A whole provisioning cycle in the order and shapes Entra ID uses (Microsoft Learn, "Tutorial: Develop and plan
/// provisioning for a SCIM endpoint in Microsoft Entra ID"): check by filter, create, patch attributes, add to a
/// group, deactivate, delete.
/// </summary>
public sealed class ScimProvisioningCycleTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Entra_id_provisions_updates_groups_deactivates_and_deletes_a_user()
    {
        var (tenant, tokenId, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var userName = $"Test_User_{Guid.NewGuid():N}@testuser.com";

            // 1. Is the user there? (Entra queries by its matching attribute first.)
            var query = "/scim/v2/Users?filter=" + Uri.EscapeDataString($"userName eq \"{userName}\"");
            Assert.Equal(0, (await (await scim.GetAsync(query)).ReadJsonAsync(200))["totalResults"]!.GetValue<int>());

            // 2. Create, as in the tutorial's "Create User" request.
            var create = JsonNode.Parse($$"""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                 "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"{{userName}}","active":true,
                 "emails":[{"primary":true,"type":"work","value":"{{userName}}"}],
                 "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
                 "roles":[]}
                """)!;
            var created = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Users", create)).ReadJsonAsync(201);
            var userId = created.Id();
            Assert.Equal(1, (await (await scim.GetAsync(query)).ReadJsonAsync(200))["totalResults"]!.GetValue<int>());

            // 3. Patch attributes ("Update User [Single-valued properties]" and "[Multi-valued properties]").
            var patch = JsonNode.Parse("""
                {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
                  {"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
                  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
                  {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
                  {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tour Operations"}]}
                """)!;
            var patched = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{userId}", patch)).ReadJsonAsync(200);
            Assert.Equal("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", patched["userName"]!.GetValue<string>());
            Assert.Equal("updatedFamilyName", patched["name"]!["familyName"]!.GetValue<string>());
            Assert.Equal("Tour Operations", patched[ScimKit.EnterpriseSchema]!["department"]!.GetValue<string>());
            var stored = await app.DbAsync(db => db.Users.SingleAsync(u => u.Id == userId));
            Assert.Equal("updatedEmail@microsoft.com", stored.Email);
            Assert.Equal("updatedFamilyName", stored.LastName);

            // 4. Add to a group ("Create Group", then "Update Group [Add Members]").
            var group = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", JsonNode.Parse("""
                {"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"},
                 "schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}
                """)!)).ReadJsonAsync(201);
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{group.Id()}", JsonNode.Parse($$"""
                {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"{{userId}}"}]}]}
                """)!)).ShouldBeAsync(204);
            var withGroup = await (await scim.GetAsync($"/scim/v2/Users/{userId}")).ReadJsonAsync(200);
            Assert.Equal(group.Id(), withGroup["groups"]![0]!["value"]!.GetValue<string>());

            // 5. Deactivate ("Disable User").
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{userId}", JsonNode.Parse("""
                {"Operations":[{"op":"Replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
                """)!)).ShouldBeAsync(200);
            Assert.Equal(UserStatus.Disabled, await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Status).SingleAsync()));

            // 6. Delete.
            await (await scim.SendAsync(HttpMethod.Delete, $"/scim/v2/Users/{userId}")).ShouldBeAsync(204);
            Assert.NotNull(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.DeletedAt).SingleAsync()));
            Assert.Equal(0, (await (await scim.GetAsync(query)).ReadJsonAsync(200))["totalResults"]!.GetValue<int>());

            // Every change was audited with the token as actor.
            var actions = await app.DbAsync(db => db.AuditEvents.Where(e => e.TenantId == tenant && e.ActorId == tokenId && e.ActorType == "SCIM_TOKEN")
                .Select(e => e.Action).ToListAsync());
            foreach (var action in new[] { "user.created", "user.updated", "group.created", "group.member_added", "user.status_changed", "user.deleted" })
            {
                Assert.Contains(action, actions);
            }
        }
    }
}
