using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>DELETE /api/v1/tenants/{tenant_id}/users/{user_id} and /api/v1/admin/users/{user_id}: a soft delete that hides and disarms the user.</summary>
public sealed class UserDeleteTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string ValidPassword = "Quartz-Lantern-93!";

    private static string UserPath(string tenantId, string userId) => $"/api/v1/tenants/{tenantId}/users/{userId}";

    private static string DeletePath(string tenantId, string userId, string confirmEmail) =>
        $"{UserPath(tenantId, userId)}?confirm_email={Uri.EscapeDataString(confirmEmail)}";

    private async Task<HttpResponseMessage> DeleteAsync(string path, string? ifMatch = null)
    {
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        if (ifMatch is not null)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("If-Match", ifMatch));
        }

        return await admin.SendAsync(request);
    }

    private async Task<(string Tenant, string UserId, string Email)> NewUserAsync()
    {
        var tenant = await app.CreateTenantAsync();
        var email = $"Del.{Guid.NewGuid():N}@example.com";
        var user = await app.CreateUserAsync(tenant, new { email, password = ValidPassword });
        return (tenant, user["id"]!.GetValue<string>(), user["email"]!.GetValue<string>());
    }

    private async Task AssertStillThereAsync(string tenantId, string userId)
    {
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync(UserPath(tenantId, userId))).ShouldBeAsync(200);
        Assert.Null(await app.DbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.DeletedAt).SingleAsync()));
    }

    [Fact]
    public async Task Missing_confirm_email_is_422_and_the_user_stays()
    {
        var (tenant, id, _) = await NewUserAsync();

        var response = await DeleteAsync(UserPath(tenant, id));
        var json = await response.ReadJsonAsync(422);
        var error = Assert.Single(json["detail"]!.AsArray());
        Assert.Equal(["query", "confirm_email"], error!["loc"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal("missing", error["type"]!.GetValue<string>());

        await AssertStillThereAsync(tenant, id);
    }

    [Fact]
    public async Task A_mismatching_confirm_email_is_422_and_the_user_stays()
    {
        var (tenant, id, _) = await NewUserAsync();

        var response = await DeleteAsync(DeletePath(tenant, id, "someone.else@example.com"));
        Assert.Equal(["query.confirm_email|value_error"], await response.ReadValidationErrorsAsync());

        await AssertStillThereAsync(tenant, id);
    }

    [Fact]
    public async Task A_matching_confirm_email_in_another_case_deletes_with_204_and_no_body()
    {
        var (tenant, id, email) = await NewUserAsync();

        var response = await DeleteAsync(DeletePath(tenant, id, email.ToUpperInvariant()));

        Assert.Equal(204, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.NotNull(await app.DbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.DeletedAt).SingleAsync()));
    }

    [Fact]
    public async Task A_deleted_user_disappears_from_every_read_and_frees_its_email()
    {
        var tenant = await app.CreateTenantAsync();
        var group = await app.CreateAsync($"/api/v1/tenants/{tenant}/groups", new { name = "Crew" });
        var email = $"Gone.{Guid.NewGuid():N}@example.com";
        var id = (await app.CreateUserAsync(tenant, new { email, password = ValidPassword, group_ids = new[] { group } }))["id"]!.GetValue<string>();
        var survivor = await app.CreateUserIdAsync(tenant, password: ValidPassword);
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/groups/{group}/members", new { user_ids = new[] { survivor } })).ShouldBeAsync(200);

        await (await DeleteAsync(DeletePath(tenant, id, email))).ShouldBeAsync(204);

        await (await admin.GetAsync(UserPath(tenant, id))).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{id}")).ReadProblemAsync(404);
        await (await DeleteAsync(DeletePath(tenant, id, email))).ReadProblemAsync(404);

        var list = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users")).ReadJsonAsync(200);
        Assert.Equal([survivor], list["data"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()));
        Assert.Equal(1, list["pagination"]!["total_items"]!.GetValue<int>());
        var adminList = await (await admin.GetAsync($"/api/v1/admin/users/?tenant_id={tenant}")).ReadJsonAsync(200);
        Assert.DoesNotContain(adminList["data"]!.AsArray(), u => u!["id"]!.GetValue<string>() == id);

        var members = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/groups/{group}/members")).ReadJsonAsync(200);
        Assert.Equal([survivor], members["data"]!.AsArray().Select(m => m!["user_id"]!.GetValue<string>()));
        Assert.Equal(0, await app.DbAsync(db => db.GroupMembers.CountAsync(m => m.UserId == id)));

        var replacement = await app.CreateUserAsync(tenant, new { email, password = ValidPassword });
        Assert.NotEqual(id, replacement["id"]!.GetValue<string>());
        Assert.Empty(replacement["groups"]!.AsArray());
    }

    [Fact]
    public async Task A_stale_if_match_is_412_and_the_current_one_deletes()
    {
        var (tenant, id, email) = await NewUserAsync();
        using var admin = await app.AdminAsync();
        var stale = (await admin.GetAsync(UserPath(tenant, id))).Headers.ETag!.ToString();
        await (await admin.PatchAsJsonAsync(UserPath(tenant, id), new { first_name = "Changed" })).ShouldBeAsync(200);
        var current = (await admin.GetAsync(UserPath(tenant, id))).Headers.ETag!.ToString();

        await (await DeleteAsync(DeletePath(tenant, id, email), stale)).ReadProblemAsync(412);
        await AssertStillThereAsync(tenant, id);

        await (await DeleteAsync(DeletePath(tenant, id, email), current)).ShouldBeAsync(204);
    }

    [Fact]
    public async Task Delete_writes_a_user_deleted_audit_event()
    {
        var (tenant, id, email) = await NewUserAsync();
        var requestId = "delete-" + Guid.NewGuid().ToString("N");
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Delete, DeletePath(tenant, id, email));
        request.Headers.Add("X-Request-ID", requestId);
        await (await admin.SendAsync(request)).ShouldBeAsync(204);

        var audit = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?target_id={id}")).ReadJsonAsync(200);
        var evt = Assert.Single(audit["data"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "user.deleted");
        Assert.Equal(id, evt!["target_id"]!.GetValue<string>());
        Assert.Equal(requestId, evt["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_revokes_the_users_sessions_and_tokens()
    {
        var (tenant, id, email) = await NewUserAsync();
        var sessionId = Guid.NewGuid().ToString();
        var now = DateTime.UtcNow;
        await app.DbAsync(async db =>
        {
            db.UserSessions.Add(new UserSession { Id = sessionId, TenantId = tenant, UserId = id, CreatedAt = now.AddMinutes(-10), LastSeenAt = now.AddMinutes(-1) });
            await db.SaveChangesAsync();
        });

        await (await DeleteAsync(DeletePath(tenant, id, email))).ShouldBeAsync(204);

        var revokedAt = await app.DbAsync(db => db.UserSessions.Where(s => s.Id == sessionId).Select(s => s.RevokedAt).SingleAsync());
        Assert.NotNull(revokedAt);
        var tokensRevokedAt = await app.DbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.TokensRevokedAt).SingleAsync());
        Assert.NotNull(tokensRevokedAt);
    }

    [Fact]
    public async Task A_user_of_another_tenant_is_404_through_this_tenants_route_even_with_the_right_email()
    {
        var (otherTenant, otherUser, otherEmail) = await NewUserAsync();
        var tenant = await app.CreateTenantAsync();

        await (await DeleteAsync(DeletePath(tenant, otherUser, otherEmail))).ReadProblemAsync(404);
        await AssertStillThereAsync(otherTenant, otherUser);
    }

    [Fact]
    public async Task An_unknown_user_is_404()
    {
        var tenant = await app.CreateTenantAsync();
        await (await DeleteAsync(DeletePath(tenant, Guid.NewGuid().ToString(), "ghost@example.com"))).ReadProblemAsync(404);
        await (await DeleteAsync($"/api/v1/admin/users/{Guid.NewGuid()}")).ReadProblemAsync(404);
    }

    [Fact]
    public async Task The_admin_route_deletes_without_confirm_email()
    {
        var (tenant, id, _) = await NewUserAsync();

        var response = await DeleteAsync($"/api/v1/admin/users/{id}");
        Assert.Equal(204, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        using var admin = await app.AdminAsync();
        await (await admin.GetAsync(UserPath(tenant, id))).ReadProblemAsync(404);
        await (await admin.GetAsync($"/api/v1/admin/users/{id}")).ReadProblemAsync(404);
        await (await DeleteAsync($"/api/v1/admin/users/{id}")).ReadProblemAsync(404);
    }
}
