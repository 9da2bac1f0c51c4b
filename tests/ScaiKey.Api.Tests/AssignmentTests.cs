using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// assignment_required (issue 13, point 4): only users assigned to the application directly, through a group or
/// through a group nested below an assigned one get codes or tokens; others get access_denied at the authorization
/// endpoint and invalid_grant from the password grant and on refresh. The default (false) admits every user.
/// </summary>
public sealed class AssignmentTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private static readonly string[] AllGrants = ["authorization_code", "refresh_token", "password"];

    private sealed record World(OidcTestClient Client, OidcTestClient Open, string Direct, string Grouped, string Nested, string Outsider);

    /// <summary>
    /// A tenant with an application that requires assignment and one that does not (same redirect URI), and users
    /// assigned directly, through a group, through a child of that group, and not at all.
    /// </summary>
    private async Task<World> WorldAsync()
    {
        var client = await OidcTestClient.CreateAsync(app, assignmentRequired: true, grantTypes: AllGrants);
        var direct = await client.CreateUserAsync(app, "direct@example.com");
        var grouped = await client.CreateUserAsync(app, "grouped@example.com");
        var nested = await client.CreateUserAsync(app, "nested@example.com");
        var outsider = await client.CreateUserAsync(app, "outsider@example.com");
        var parent = await app.CreateAsync($"/api/v1/tenants/{client.TenantId}/groups", new { name = "Staff" });
        var child = await app.CreateAsync($"/api/v1/tenants/{client.TenantId}/groups", new { name = "Engineers", parent_group_id = parent });
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/groups/{parent}/members", new { user_ids = new[] { grouped } })).ShouldBeAsync(200);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/groups/{child}/members", new { user_ids = new[] { nested } })).ShouldBeAsync(200);
        var assignments = $"/api/v1/tenants/{client.TenantId}/applications/{client.ApplicationId}/assignments";
        await (await admin.PostAsJsonAsync(assignments, new { user_id = direct })).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync(assignments, new { group_id = parent })).ShouldBeAsync(201);

        var open = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{client.TenantId}/applications", new
        {
            name = "Open", type = "SPA", redirect_uris = new[] { client.RedirectUri }, grant_types = AllGrants, consent_required = false,
        })).ReadJsonAsync(201))["data"]!;
        Assert.False(open["assignment_required"]!.GetValue<bool>());
        return new World(client, client with { ClientId = open["client_id"]!.GetValue<string>(), ApplicationId = open["id"]!.GetValue<string>() },
            direct, grouped, nested, outsider);
    }

    [Fact]
    public async Task Authorize_admits_users_assigned_directly_through_a_group_and_a_nested_group_and_denies_others()
    {
        var d = await WorldAsync();
        foreach (var email in new[] { "direct@example.com", "grouped@example.com", "nested@example.com" })
        {
            using var browser = d.Client.Browser(app);
            await d.Client.CodeAsync(app, browser, email, Pkce.Create());
        }

        using var outsider = d.Client.Browser(app);
        var login = (await outsider.GetAsync(d.Client.AuthorizeUrl(Pkce.Create()))).Headers.Location!.OriginalString;
        var html = await (await outsider.GetAsync(login)).Content.ReadAsStringAsync();
        var posted = await outsider.PostAsync($"/t/{d.Client.Slug}/login", Forms.From(html, ("email", "outsider@example.com"), ("password", OidcTestClient.Password)));
        await posted.ShouldBeAsync(303);
        ConsentTests.AssertErrorRedirect(d.Client, await outsider.GetAsync(posted.Headers.Location!.OriginalString), "access_denied");
        ConsentTests.AssertErrorRedirect(d.Client, await outsider.GetAsync(d.Client.AuthorizeUrl(Pkce.Create(), extra: "&prompt=none")), "access_denied");
        Assert.Empty(await app.DbAsync(db => db.TokenGrants.Where(g => g.UserId == d.Outsider).ToListAsync()));

        // Control: the same signed-in outsider gets a code from the application that does not require assignment.
        await d.Open.CodeFromAsync(await outsider.GetAsync(d.Open.AuthorizeUrl(Pkce.Create())), expectedState: "state-1");
    }

    [Fact]
    public async Task The_password_grant_admits_assigned_users_only_and_is_invalid_grant_for_others()
    {
        var d = await WorldAsync();
        foreach (var email in new[] { "direct@example.com", "grouped@example.com", "nested@example.com" })
        {
            await (await PasswordGrantAsync(d.Client, email)).ReadJsonAsync(200);
        }

        var refused = await (await PasswordGrantAsync(d.Client, "outsider@example.com")).ReadJsonAsync(400);
        Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());
        Assert.Contains("not assigned", refused["error_description"]!.GetValue<string>(), StringComparison.Ordinal);

        // A wrong password says nothing about assignment.
        var wrong = await (await PasswordGrantAsync(d.Client, "outsider@example.com", "Not-The-Password-1")).ReadJsonAsync(400);
        Assert.DoesNotContain("assigned", wrong["error_description"]!.GetValue<string>(), StringComparison.Ordinal);

        // Control: the default (assignment_required false) admits the outsider.
        await (await PasswordGrantAsync(d.Open, "outsider@example.com")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task A_user_unassigned_since_sign_in_cannot_refresh_until_assigned_again()
    {
        var d = await WorldAsync();
        var tokens = await (await PasswordGrantAsync(d.Client, "grouped@example.com")).ReadJsonAsync(200);
        var refresh = tokens["refresh_token"]!.GetValue<string>();
        refresh = (await (await d.Client.RefreshAsync(app, refresh)).ReadJsonAsync(200))["refresh_token"]!.GetValue<string>();

        // Leaving the assigned group ends the assignment.
        var parent = await app.DbAsync(db => db.Groups.Where(g => g.TenantId == d.Client.TenantId && g.Name == "Staff").Select(g => g.Id).SingleAsync());
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{d.Client.TenantId}/groups/{parent}/members/{d.Grouped}")).ShouldBeAsync(204);
        var refused = await (await d.Client.RefreshAsync(app, refresh)).ReadJsonAsync(400);
        Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());

        // The grant was left as it was: assignment no longer required, the same refresh token works.
        var path = $"/api/v1/tenants/{d.Client.TenantId}/applications/{d.Client.ApplicationId}";
        var patched = (await (await admin.PatchAsJsonAsync(path, new { assignment_required = false })).ReadJsonAsync(200))["data"]!;
        Assert.False(patched["assignment_required"]!.GetValue<bool>());
        refresh = (await (await d.Client.RefreshAsync(app, refresh)).ReadJsonAsync(200))["refresh_token"]!.GetValue<string>();

        // Required again: refused again; and the outsider's password grant follows the switch both ways.
        await (await admin.PatchAsJsonAsync(path, new { assignment_required = true })).ShouldBeAsync(200);
        Assert.Equal("invalid_grant", (await (await d.Client.RefreshAsync(app, refresh)).ReadJsonAsync(400))["error"]!.GetValue<string>());
        await (await PasswordGrantAsync(d.Client, "outsider@example.com")).ShouldBeAsync(400);
    }

    private Task<HttpResponseMessage> PasswordGrantAsync(OidcTestClient client, string email, string password = OidcTestClient.Password) =>
        app.Anonymous().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["client_id"] = client.ClientId,
            ["scope"] = "openid offline_access",
        }));
}
