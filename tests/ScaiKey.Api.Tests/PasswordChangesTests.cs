using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Tests.Scim;

namespace ScaiKey.Api.Tests;

/// <summary>Users/PasswordChanges.cs: the one service every password change of the API and SCIM goes through.</summary>
public sealed class PasswordChangesTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_password_against_the_tenant_policy_is_refused_alike_by_an_admin_reset_and_by_scim()
    {
        var tenant = await app.CreateTenantAsync(settings: new { password_policy = new { min_length = 16 } });
        var (_, token) = await ScimKit.CreateTokenAsync(app, tenant);
        using var scim = app.WithToken(token);
        using var admin = await app.AdminAsync();
        var id = (await ScimKit.CreateUserAsync(scim)).Id();
        Task<(string? Hash, DateTime? At)> StoredAsync() => app.DbAsync(db =>
            db.Users.Where(u => u.Id == id).Select(u => new ValueTuple<string?, DateTime?>(u.PasswordHash, u.PasswordChangedAt)).SingleAsync());
        const string fifteen = "Quartz-Lantern9";

        var reset = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{id}/password/reset", new { method = "MANUAL", new_password = fifteen });
        var detail = (await reset.ReadJsonAsync(422))["detail"]!.AsArray();
        var violations = detail.Select(d => d!["msg"]!.GetValue<string>()["Value error, ".Length..]).ToList();
        Assert.NotEmpty(violations);
        Assert.All(detail, d => Assert.Equal("""["body","new_password"]""", d!["loc"]!.ToJsonString()));

        var patch = await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{id}",
            ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "password", ["value"] = fifteen }));
        var error = await patch.ReadScimErrorAsync(400, "invalidValue");
        Assert.Equal("password: " + string.Join(" ", violations), error["detail"]!.GetValue<string>());
        Assert.Equal((null, null), await StoredAsync());

        // Control: sixteen characters pass both ways, and each stores a new hash and time.
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{id}/password/reset",
            new { method = "MANUAL", new_password = "Quartz-Lantern93" })).ReadJsonAsync(200);
        var afterReset = await StoredAsync();
        Assert.NotNull(afterReset.Hash);
        Assert.NotNull(afterReset.At);

        await (await scim.SendAsync(HttpMethod.Patch, $"/scim/v2/Users/{id}",
            ScimKit.Patch(new JsonObject { ["op"] = "replace", ["path"] = "password", ["value"] = "Quartz-Lantern94" }))).ReadJsonAsync(200);
        var afterScim = await StoredAsync();
        Assert.NotEqual(afterReset.Hash, afterScim.Hash);
        Assert.True(afterScim.At >= afterReset.At);
    }
}
