using System.Data.Common;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Memberships belong to live users only, whoever writes (the LiveMemberships migration): a soft delete removes the
/// user's memberships, a membership of a deleted user cannot be added, and neither can slip past the other when both
/// happen at once. The user list takes a group filter's exact total from the memberships alone, so it rests on this.
/// </summary>
public sealed class LiveMembershipsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private Task ExecAsync(FormattableString sql) => app.DbAsync(db => db.Database.ExecuteSqlAsync(sql));

    private Task<int> MembershipsOfAsync(string userId) => app.DbAsync(db => db.GroupMembers.CountAsync(m => m.UserId == userId));

    private static async Task<(int Total, int Rows)> GroupListAsync(HttpClient admin, string tenant, string group)
    {
        var page = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users?group_id={group}&per_page=100")).ReadJsonAsync(200);
        return (page["pagination"]!["total_items"]!.GetValue<int>(), page["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_soft_delete_by_any_writer_takes_the_memberships_and_a_deleted_user_cannot_join()
    {
        var tenant = await app.CreateTenantAsync();
        using var admin = await app.AdminAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var squad = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Squad", parent_group_id = team });
        var kept = await app.CreateUserIdAsync(tenant, "kept@example.com");
        var api = await app.CreateUserIdAsync(tenant, "api@example.com");
        var raw = await app.CreateUserIdAsync(tenant, "raw@example.com");
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{team}/members", new { user_ids = new[] { kept, api, raw } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{squad}/members", new { user_ids = new[] { api, raw } })).ShouldBeAsync(200);
        Assert.Equal((3, 3), await GroupListAsync(admin, tenant, team));

        // Through the API, and behind its back (another instance's writer, the importer, an operator's SQL).
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant}/users/{api}?confirm_email=api@example.com")).ShouldBeAsync(204);
        await ExecAsync($"UPDATE users SET deleted_at = {DateTime.UtcNow} WHERE id = {raw}");
        Assert.Equal(0, await MembershipsOfAsync(api));
        Assert.Equal(0, await MembershipsOfAsync(raw));
        Assert.Equal((1, 1), await GroupListAsync(admin, tenant, team));
        Assert.Equal((0, 0), await GroupListAsync(admin, tenant, squad));

        // A deleted user cannot be made a member, by insert or by pointing a membership at it.
        await Assert.ThrowsAnyAsync<DbException>(() =>
            ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {raw}, {tenant}, {DateTime.UtcNow})"));
        await Assert.ThrowsAnyAsync<DbException>(() => ExecAsync($"UPDATE group_members SET user_id = {raw} WHERE user_id = {kept}"));
        Assert.Equal((1, 1), await GroupListAsync(admin, tenant, team));

        // Nor a user or group of another tenant under this tenant's name (the total counts memberships, the pages
        // read this tenant's users: the two would disagree).
        var other = await app.CreateTenantAsync();
        var stranger = await app.CreateUserIdAsync(other, "stranger@example.com");
        var foreignGroup = await app.CreateAsync($"/api/v1/tenants/{other}/groups", new { name = "Elsewhere" });
        await Assert.ThrowsAnyAsync<DbException>(() =>
            ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {stranger}, {tenant}, {DateTime.UtcNow})"));
        await Assert.ThrowsAnyAsync<DbException>(() =>
            ExecAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({foreignGroup}, {kept}, {tenant}, {DateTime.UtcNow})"));
        Assert.Equal((1, 1), await GroupListAsync(admin, tenant, team));
    }

    /// <summary>
    /// A transaction adding two members while another changes the second user (a rename raises the directory version
    /// after locking the user row). The membership writer holds the version row from its first insert; had the rule
    /// locked the second user for its check (FOR SHARE), each would wait for the other: a deadlock, answered 500.
    /// </summary>
    [Fact]
    public async Task Adding_members_while_one_of_them_is_renamed_does_not_deadlock()
    {
        var tenant = await app.CreateTenantAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var first = await app.CreateUserIdAsync(tenant, "first@example.com");
        var second = await app.CreateUserIdAsync(tenant, "second@example.com");
        using var writerScope = app.Host.Services.CreateScope();
        using var renamerScope = app.Host.Services.CreateScope();
        var writer = writerScope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var renamer = renamerScope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();

        await using (var transaction = await writer.Database.BeginTransactionAsync())
        {
            await writer.Database.ExecuteSqlAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {first}, {tenant}, {DateTime.UtcNow})");
            var rename = Task.Run(async () =>
            {
                await using var tx = await renamer.Database.BeginTransactionAsync();
                await renamer.Database.ExecuteSqlAsync($"UPDATE users SET search_text = {"renamed"}, display_name = {"Renamed"} WHERE id = {second}");
                await tx.CommitAsync();
            });
            await Task.Delay(300);
            await writer.Database.ExecuteSqlAsync($"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {second}, {tenant}, {DateTime.UtcNow})");
            await transaction.CommitAsync();
            await rename;
        }

        Assert.Equal(2, await app.DbAsync(db => db.GroupMembers.CountAsync(m => m.GroupId == team)));
    }

    /// <summary>
    /// A membership insert and a soft delete of the same user in two transactions at once, in both orders: whichever
    /// commits first, no membership of a deleted user is left. (With only the foreign key's lock, the insert that
    /// starts while the delete is uncommitted would see the user live and commit a membership the delete never saw.)
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_membership_and_a_soft_delete_at_once_leave_no_membership_of_a_deleted_user(bool deleteFirst)
    {
        var tenant = await app.CreateTenantAsync();
        var team = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Team" });
        var user = await app.CreateUserIdAsync(tenant, $"race-{deleteFirst}@example.com");
        using var deleterScope = app.Host.Services.CreateScope();
        using var joinerScope = app.Host.Services.CreateScope();
        var deleter = deleterScope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var joiner = joinerScope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        FormattableString delete = $"UPDATE users SET deleted_at = {DateTime.UtcNow} WHERE id = {user}";
        FormattableString join = $"INSERT INTO group_members (group_id, user_id, tenant_id, created_at) VALUES ({team}, {user}, {tenant}, {DateTime.UtcNow})";

        var (first, firstSql, second, secondSql) = deleteFirst ? (deleter, delete, joiner, join) : (joiner, join, deleter, delete);
        await using (var transaction = await first.Database.BeginTransactionAsync())
        {
            await first.Database.ExecuteSqlAsync(firstSql);

            // The second waits for the first's lock; it is let go by the commit below.
            var late = Task.Run(async () =>
            {
                await using var tx = await second.Database.BeginTransactionAsync();
                await second.Database.ExecuteSqlAsync(secondSql);
                await tx.CommitAsync();
            });
            await Task.Delay(300);
            await transaction.CommitAsync();
            var error = await Record.ExceptionAsync(() => late);

            // Deleted first: the join is refused. Joined first: the delete removes the membership after waiting.
            Assert.True(deleteFirst == error is DbException, $"second transaction: {error?.GetType().Name ?? "no error"} {error?.Message}");
        }

        Assert.Equal(0, await MembershipsOfAsync(user));
        Assert.NotNull(await app.DbAsync(db => db.Users.Where(u => u.Id == user).Select(u => u.DeletedAt).FirstAsync()));
    }
}
