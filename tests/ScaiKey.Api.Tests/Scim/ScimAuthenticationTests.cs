using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests.Scim;

/// <summary>A SCIM token works on /scim/v2 only and for its tenant only; no other token works on /scim/v2.</summary>
public sealed class ScimAuthenticationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_scim_token_is_refused_outside_scim_v2()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);
            await (await scim.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadProblemAsync(401);
            await (await scim.GetAsync($"/api/v1/tenants/{tenant}/scim/tokens")).ReadProblemAsync(401);
            await (await scim.GetAsync("/connect/userinfo")).ShouldBeAsync(401);

            // Control: the admin's token reaches the same API route.
            using var admin = await app.AdminAsync();
            await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users")).ShouldBeAsync(200);
        }
    }

    [Fact]
    public async Task Admin_and_user_tokens_are_refused_on_scim_v2()
    {
        var (tenant, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            using var admin = await app.AdminAsync();
            var refused = await admin.GetAsync("/scim/v2/Users");
            await refused.ReadScimErrorAsync(401);
            Assert.Contains("realm=\"scim\"", refused.Headers.WwwAuthenticate.ToString());

            using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
            await (await tenantAdmin.GetAsync("/scim/v2/ServiceProviderConfig")).ReadScimErrorAsync(401);
            await (await app.Anonymous().GetAsync("/scim/v2/Users")).ReadScimErrorAsync(401);
            await (await app.WithToken("scim_" + new string('A', 43)).GetAsync("/scim/v2/Users")).ReadScimErrorAsync(401);

            // Control: the tenant's SCIM token.
            await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);
        }
    }

    [Fact]
    public async Task Use_is_recorded_on_the_token()
    {
        var (tenant, tokenId, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            Assert.Null(await app.DbAsync(db => db.ScimTokens.Where(t => t.Id == tokenId).Select(t => t.LastUsedAt).SingleAsync()));
            await (await scim.GetAsync("/scim/v2/Users")).ShouldBeAsync(200);
            Assert.NotNull(await app.DbAsync(db => db.ScimTokens.Where(t => t.Id == tokenId).Select(t => t.LastUsedAt).SingleAsync()));
            using var admin = await app.AdminAsync();
            var listed = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/scim/tokens")).ReadJsonAsync(200))["data"]![0]!;
            Assert.NotNull(listed["last_used_at"]);
        }
    }

    [Fact]
    public async Task A_token_of_one_tenant_never_sees_or_changes_another_tenants_users_and_groups()
    {
        var (_, _, scimA) = await ScimKit.TenantAsync(app);
        var (tenantB, _, scimB) = await ScimKit.TenantAsync(app);
        using (scimA)
        using (scimB)
        {
            var userB = await ScimKit.CreateUserAsync(scimB);
            var groupB = await (await scimB.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new { schemas = new[] { ScimKit.GroupSchema }, displayName = "B team" })).ReadJsonAsync(201);
            var apiUserB = await app.CreateUserIdAsync(tenantB);

            foreach (var path in new[] { $"/scim/v2/Users/{userB.Id()}", $"/scim/v2/Users/{apiUserB}", $"/scim/v2/Groups/{groupB.Id()}" })
            {
                await (await scimA.GetAsync(path)).ReadScimErrorAsync(404);
                await (await scimA.SendAsync(HttpMethod.Delete, path)).ReadScimErrorAsync(404);
                await (await scimA.SendAsync(HttpMethod.Put, path, ScimKit.NewUser($"x{Guid.NewGuid():N}@example.com"))).ReadScimErrorAsync(404);
            }

            await (await scimA.SendAsync(HttpMethod.Put, $"/scim/v2/Groups/{groupB.Id()}", new { displayName = "taken" })).ReadScimErrorAsync(404);
            var listA = await (await scimA.GetAsync("/scim/v2/Users")).ReadJsonAsync(200);
            Assert.Equal(0, listA["totalResults"]!.GetValue<int>());
            var groupsA = await (await scimA.GetAsync("/scim/v2/Groups")).ReadJsonAsync(200);
            Assert.Equal(0, groupsA["totalResults"]!.GetValue<int>());

            // A's group cannot take B's user as a member.
            var groupA = await (await scimA.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new
            {
                schemas = new[] { ScimKit.GroupSchema }, displayName = "A team", members = new[] { new { value = userB.Id() } },
            })).ReadScimErrorAsync(400, "invalidValue");

            // Control: B's token sees its own.
            await (await scimB.GetAsync($"/scim/v2/Users/{userB.Id()}")).ShouldBeAsync(200);
            Assert.Null(await app.DbAsync(db => db.Users.Where(u => u.Id == userB.Id()).Select(u => u.DeletedAt).SingleAsync()));
        }
    }
}
