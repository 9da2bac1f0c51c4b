using System.Net;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// POST .../users/{id}/invitation (tenant and admin routes): a new invitation for a user still waiting for one, the
/// earlier links void; a user past the invitation is a 409 of its own type; who may resend.
/// </summary>
public sealed class InvitationResendTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string NewPassword = "Amber-Orchard-5521!";

    private static string NewEmail(string prefix) => $"{prefix}-{Guid.NewGuid():N}@example.com";

    private async Task<string> SlugAsync(string tenant) =>
        await app.DbAsync(db => db.Tenants.Where(t => t.Id == tenant).Select(t => t.Slug).SingleAsync());

    [Fact]
    public async Task A_resend_voids_the_old_link_and_the_new_one_sets_up_the_account()
    {
        await using var mail = MailHarness.Start(app);
        var tenant = await app.CreateTenantAsync();
        var slug = await SlugAsync(tenant);
        var email = NewEmail("resend");
        var user = await app.CreateUserIdAsync(tenant, email);
        var first = MailHarness.Link(await mail.WaitForAsync(email, "invited"));

        using var admin = await app.AdminAsync();
        var response = await admin.PostAsync($"/api/v1/tenants/{tenant}/users/{user}/invitation", null);
        var json = await response.ReadJsonAsync(200);
        Assert.Equal(user, json["data"]!["id"]!.GetValue<string>());
        Assert.Equal("PENDING_EMAIL_VERIFICATION", json["data"]!["status"]!.GetValue<string>());
        Assert.NotNull(json["meta"]!["request_id"]);
        Assert.NotNull(response.Headers.ETag);

        var second = MailHarness.Link(await mail.WaitForAsync(email, "invited", count: 2));
        Assert.NotEqual(first, second);
        using var browser = app.Host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var dead = await browser.GetAsync(first);
        Assert.Equal(HttpStatusCode.BadRequest, dead.StatusCode);
        Assert.Contains("This link is not valid", await dead.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var page = await browser.GetAsync(second);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        var done = await browser.PostAsync($"/t/{slug}/accept-invitation", Forms.From(html, ("new_password", NewPassword), ("confirm_password", NewPassword)));
        Assert.Contains("Your password is set.", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var accepted = (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200))["data"]!;
        Assert.Equal("ACTIVE", accepted["status"]!.GetValue<string>());
        Assert.True(accepted["email_verified"]!.GetValue<bool>());

        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.TargetId == user && e.Action == "user.invitation_resent"));
        Assert.Equal("CLIENT", audit.ActorType);

        // Accepted: nothing left to resend.
        var again = await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users/{user}/invitation", null)).ReadProblemAsync(409);
        Assert.Equal("urn:scaikey:problem:invitation-not-pending", again["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_user_with_a_password_or_past_the_invitation_is_a_409_and_nothing_is_sent()
    {
        var tenant = await app.CreateTenantAsync();
        var withPassword = NewEmail("has-password");
        var userWithPassword = await app.CreateUserIdAsync(tenant, withPassword, "Quartz-Lantern-93!");
        var activated = NewEmail("activated");
        var activatedUser = await app.CreateUserIdAsync(tenant, activated);
        using var admin = await app.AdminAsync();
        await (await admin.PutAsJsonAsync($"/api/v1/tenants/{tenant}/users/{activatedUser}/status", new { status = "ACTIVE" })).ShouldBeAsync(200);

        foreach (var (user, email) in new[] { (userWithPassword, withPassword), (activatedUser, activated) })
        {
            var before = await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == email));
            var problem = await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users/{user}/invitation", null)).ReadProblemAsync(409);
            Assert.Equal("urn:scaikey:problem:invitation-not-pending", problem["type"]!.GetValue<string>());
            Assert.Contains("password reset", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(before, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == email)));
        }

        // Unknown users are 404, like every user action.
        await (await admin.PostAsync($"/api/v1/tenants/{tenant}/users/{Guid.NewGuid()}/invitation", null)).ReadProblemAsync(404);
    }

    [Fact]
    public async Task Helpdesk_may_resend_a_viewer_may_not_and_the_admin_route_answers_with_the_admin_user()
    {
        var tenant = await app.CreateTenantAsync();
        var email = NewEmail("helpdesk");
        var user = await app.CreateUserIdAsync(tenant, email);
        Task<int> InvitationsAsync() => app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == user && t.Purpose == "INVITATION"));
        Assert.Equal(1, await InvitationsAsync());

        using var viewer = await app.ClientWithRolesAsync(("TENANT_VIEWER", null, tenant));
        await (await viewer.PostAsync($"/api/v1/tenants/{tenant}/users/{user}/invitation", null)).ReadProblemAsync(403);
        Assert.Equal(1, await InvitationsAsync());

        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        await (await helpdesk.PostAsync($"/api/v1/tenants/{tenant}/users/{user}/invitation", null)).ShouldBeAsync(200);
        Assert.Equal(2, await InvitationsAsync());

        using var admin = await app.AdminAsync();
        var json = await (await admin.PostAsync($"/api/v1/admin/users/{user}/invitation", null)).ReadJsonAsync(200);
        Assert.Equal(tenant, json["data"]!["tenant_id"]!.GetValue<string>());
        Assert.Equal(3, await InvitationsAsync());
        Assert.Equal(1, await app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == user && t.Purpose == "INVITATION" && t.UsedAt == null)));
        Assert.Equal(3, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == email && m.Kind == "invitation")));
    }
}
