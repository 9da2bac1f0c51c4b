namespace ScaiKey.Api.Tests;

/// <summary>
/// Deleting a user ends what they already hold, at once: the live access token is refused by the next request (no
/// waiting for its hour to run out) and the refresh token no longer turns into a new one.
/// </summary>
public sealed class UserDeleteEndsTokensTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task Deleting_a_user_makes_their_live_access_token_401_on_the_next_request()
    {
        var portal = await PasswordGrantApp.CreateAsync(app);
        var userId = await portal.CreateUserAsync(app);
        var otherId = await portal.CreateUserAsync(app);
        var email = await portal.EmailOfAsync(app, userId);
        using var http = app.Anonymous();
        var tokens = await portal.SignInAsync(http, email);
        var access = tokens["access_token"]!.GetValue<string>();
        var refresh = tokens["refresh_token"]!.GetValue<string>();
        var otherAccess = (await portal.SignInAsync(http, await portal.EmailOfAsync(app, otherId)))["access_token"]!.GetValue<string>();

        // Control: the token works now, several times (so a cached "active" answer exists when the delete comes).
        Assert.Equal(200, await portal.UserTokenStatusAsync(http, access));
        Assert.Equal(200, await portal.UserTokenStatusAsync(http, access));

        using (var admin = await app.AdminAsync())
        {
            using var deleted = await admin.DeleteAsync($"/api/v1/tenants/{portal.TenantId}/users/{userId}?confirm_email={Uri.EscapeDataString(email)}");
            Assert.True(deleted.IsSuccessStatusCode, $"delete: {(int)deleted.StatusCode} {await deleted.Content.ReadAsStringAsync()}");
        }

        // The very next request: refused, and the refresh token is spent.
        Assert.Equal(401, await portal.UserTokenStatusAsync(http, access));
        using var refreshed = await portal.RefreshAsync(http, refresh);
        Assert.Equal(400, (int)refreshed.StatusCode);
        Assert.Contains("invalid_grant", await refreshed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another user's token of the same application is untouched.
        Assert.Equal(200, await portal.UserTokenStatusAsync(http, otherAccess));
    }
}
