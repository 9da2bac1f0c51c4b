using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Tests.Scim;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Groups nest at most 32 levels deep, through the API and SCIM alike: a chain of thousands (cheap to make) once
/// crashed the console's renderer for every tenant.
/// </summary>
public sealed class GroupDepthTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const int MaxDepth = 32;

    /// <summary>A chain of groups straight in the database (the API would refuse the deepest); returns them top-down.</summary>
    private async Task<List<string>> ChainAsync(string tenantId, int levels)
    {
        var ids = Enumerable.Range(0, levels).Select(_ => Guid.CreateVersion7().ToString()).ToList();
        await app.DbAsync(async db =>
        {
            for (var i = 0; i < levels; i++)
            {
                db.Groups.Add(new Group
                {
                    Id = ids[i], TenantId = tenantId, Name = $"level {i + 1} {ids[i][..8]}", ParentGroupId = i == 0 ? null : ids[i - 1],
                    CreatedAt = DateTime.UtcNow,
                });
            }

            await db.SaveChangesAsync();
        });
        return ids;
    }

    [Fact]
    public async Task A_group_below_the_32nd_level_is_refused_on_create_and_on_move_and_one_at_it_is_allowed()
    {
        var tenantId = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var chain = await ChainAsync(tenantId, MaxDepth - 1);
        var groups = $"/api/v1/tenants/{tenantId}/groups";

        // Level 32: allowed (control).
        var last = await (await admin.PostAsJsonAsync(groups, new { name = "level 32", parent_group_id = chain[^1] })).ReadJsonAsync(201);
        // Level 33: refused with the field named.
        var refused = await admin.PostAsJsonAsync(groups, new { name = "level 33", parent_group_id = last["data"]!["id"]!.GetValue<string>() });
        Assert.Equal(["body.parent_group_id|value_error"], await refused.ReadValidationErrorsAsync());

        // Moving a group with a child (two levels) below level 31 would put the child at 33.
        var top = await (await admin.PostAsJsonAsync(groups, new { name = "subtree top" })).ReadJsonAsync(201);
        var topId = top["data"]!["id"]!.GetValue<string>();
        await (await admin.PostAsJsonAsync(groups, new { name = "subtree child", parent_group_id = topId })).ShouldBeAsync(201);
        var move = await admin.PatchAsJsonAsync($"{groups}/{topId}", new { parent_group_id = chain[^1] });
        Assert.Equal(["body.parent_group_id|value_error"], await move.ReadValidationErrorsAsync());
        Assert.Null(await app.DbAsync(db => db.Groups.Where(g => g.Id == topId).Select(g => g.ParentGroupId).SingleAsync()));
        // Below level 30 it fits (control).
        await (await admin.PatchAsJsonAsync($"{groups}/{topId}", new { parent_group_id = chain[^2] })).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Scim_cannot_nest_a_group_below_the_32nd_level_either()
    {
        var (tenantId, _, scim) = await ScimKit.TenantAsync(app);
        using (scim)
        {
            var chain = await ChainAsync(tenantId, MaxDepth);
            var orphan = await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Groups", new JsonObject
            {
                ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "would be 33",
            })).ReadJsonAsync(201);
            var addMember = ScimKit.Patch(new JsonObject
            {
                ["op"] = "add", ["path"] = "members", ["value"] = new JsonArray(new JsonObject { ["value"] = orphan.Id() }),
            });
            var deepest = chain[^1];
            var secondDeepest = chain[^2];
            await app.DbAsync(db => db.Groups.Where(g => g.Id == deepest).ExecuteUpdateAsync(x => x.SetProperty(g => g.IdentitySource, IdentitySource.Scim)));
            var refused = await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{deepest}", addMember)).ReadScimErrorAsync(400, "invalidValue");
            Assert.Contains("32 levels", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);

            // One level up it fits (control).
            await app.DbAsync(db => db.Groups.Where(g => g.Id == secondDeepest).ExecuteUpdateAsync(x => x.SetProperty(g => g.IdentitySource, IdentitySource.Scim)));
            await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Groups/{secondDeepest}", addMember)).ShouldBeAsync(204);
        }
    }
}
