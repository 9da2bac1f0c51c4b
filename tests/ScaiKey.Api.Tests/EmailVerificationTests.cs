using System.Net;
using Microsoft.EntityFrameworkCore;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Email verification: users created with a password get a link that verifies their address; a PATCH that changes
/// the address makes it unverified, mails the new address a link and the old one a notice; a link verifies only the
/// address it was sent to, once.
/// </summary>
public sealed class EmailVerificationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string Confirm = "Confirm your email";

    private static string NewEmail(string prefix) => $"{prefix}-{Guid.NewGuid():N}@example.com";

    private async Task<(string Tenant, string Slug)> TenantAsync()
    {
        var tenant = await app.CreateTenantAsync();
        return (tenant, await app.DbAsync(db => db.Tenants.Where(t => t.Id == tenant).Select(t => t.Slug).SingleAsync()));
    }

    private async Task<string> CreateWithPasswordAsync(string tenant, string email) =>
        (await app.CreateUserAsync(tenant, new { email, password = Password }))["id"]!.GetValue<string>();

    private async Task<JsonNode> UserAsync(string tenant, string user)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{user}")).ReadJsonAsync(200))["data"]!;
    }

    private async Task<JsonNode> PatchEmailAsync(string tenant, string user, string email)
    {
        using var admin = await app.AdminAsync();
        return (await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}", new { email })).ReadJsonAsync(200))["data"]!;
    }

    /// <summary>Opens the link and presses the button, as a user would; returns the final page.</summary>
    private async Task<HttpResponseMessage> FollowAsync(string link, string slug)
    {
        var browser = app.Host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var page = await browser.GetAsync(link);
        if (page.StatusCode != HttpStatusCode.OK)
        {
            return page;
        }

        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Confirm email address", html, StringComparison.Ordinal);
        return await browser.PostAsync($"/t/{slug}/verify-email", Forms.From(html));
    }

    [Fact]
    public async Task A_user_created_with_a_password_gets_a_link_that_verifies_the_address_once()
    {
        await using var mail = MailHarness.Start(app);
        var (tenant, slug) = await TenantAsync();
        var email = NewEmail("verify");
        var user = await CreateWithPasswordAsync(tenant, email);
        Assert.False((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());

        var link = MailHarness.Link(await mail.WaitForAsync(email, Confirm));
        Assert.StartsWith($"http://localhost/t/{slug}/verify-email?token=", link, StringComparison.Ordinal);

        // Opening the link changes nothing (a mail scanner may open it); the button does.
        using (var scanner = app.Anonymous())
        {
            await (await scanner.GetAsync(link)).ShouldBeAsync(200);
        }

        Assert.False((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());
        var done = await FollowAsync(link, slug);
        var html = await done.Content.ReadAsStringAsync();
        Assert.True(done.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("Email address confirmed", html, StringComparison.Ordinal);
        Assert.True((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());
        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.TargetId == user && e.Action == "user.email_verified"));
        Assert.Equal("USER", audit.ActorType);

        // Single use.
        Assert.Equal(HttpStatusCode.BadRequest, (await FollowAsync(link, slug)).StatusCode);
    }

    [Fact]
    public async Task The_admin_create_route_mails_a_link_too_and_send_welcome_email_false_mails_nothing()
    {
        var (tenant, _) = await TenantAsync();
        var viaAdmin = NewEmail("admin-created");
        var quiet = NewEmail("quiet");
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync("/api/v1/admin/users/", new { tenant_id = tenant, email = viaAdmin, password = Password })).ShouldBeAsync(201);
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = quiet, password = Password, send_welcome_email = false })).ShouldBeAsync(201);

        var sent = await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == viaAdmin));
        Assert.Equal("email_verification", sent.Kind);
        Assert.Contains("/verify-email?token=", app.OutboxBody(sent), StringComparison.Ordinal);
        var token = await app.DbAsync(db => db.UserActionTokens.AsNoTracking().SingleAsync(t => t.Purpose == "EMAIL_VERIFICATION" && t.Email == viaAdmin));
        Assert.InRange(token.ExpiresAt - token.CreatedAt, TimeSpan.FromDays(7), TimeSpan.FromDays(7));
        Assert.Equal(0, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == quiet)));
    }

    [Fact]
    public async Task Changing_the_email_unverifies_it_mails_the_new_address_a_link_and_the_old_one_a_masked_notice()
    {
        await using var mail = MailHarness.Start(app);
        var (tenant, slug) = await TenantAsync();
        var old = NewEmail("before");
        var user = await CreateWithPasswordAsync(tenant, old);
        await FollowAsync(MailHarness.Link(await mail.WaitForAsync(old, Confirm)), slug);
        Assert.True((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());

        var changed = NewEmail("nathalie");
        var patched = await PatchEmailAsync(tenant, user, changed);
        Assert.False(patched["email_verified"]!.GetValue<bool>());

        var notice = MailHarness.Body(await mail.WaitForAsync(old, "was changed"));
        Assert.Contains("n***@example.com", notice, StringComparison.Ordinal);
        Assert.DoesNotContain(changed, notice, StringComparison.Ordinal);
        Assert.DoesNotContain("token=", notice, StringComparison.Ordinal);

        var link = MailHarness.Link(await mail.WaitForAsync(changed, Confirm));
        await (await FollowAsync(link, slug)).ShouldBeAsync(200);
        Assert.True((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());
        var updated = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == user && e.Action == "user.updated").ToListAsync());
        Assert.Contains("email_verified", Assert.Single(updated).ChangesJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_for_an_earlier_address_does_nothing_after_the_email_changed_again()
    {
        await using var mail = MailHarness.Start(app);
        var (tenant, slug) = await TenantAsync();
        var first = NewEmail("first");
        var second = NewEmail("second");
        var third = NewEmail("third");
        var user = await CreateWithPasswordAsync(tenant, first);
        var firstLink = MailHarness.Link(await mail.WaitForAsync(first, Confirm));
        await PatchEmailAsync(tenant, user, second);
        var secondLink = MailHarness.Link(await mail.WaitForAsync(second, Confirm));
        await PatchEmailAsync(tenant, user, third);
        var thirdLink = MailHarness.Link(await mail.WaitForAsync(third, Confirm));

        foreach (var stale in new[] { secondLink, firstLink })
        {
            var answer = await FollowAsync(stale, slug);
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Contains("This link is not valid", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.False((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());
        }

        // Control: the link sent to the current address verifies it.
        await (await FollowAsync(thirdLink, slug)).ShouldBeAsync(200);
        Assert.True((await UserAsync(tenant, user))["email_verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_admin_patch_route_does_the_same_and_another_spelling_of_the_mailbox_is_no_change()
    {
        var (tenant, _) = await TenantAsync();
        var old = NewEmail("spelling");
        var user = await CreateWithPasswordAsync(tenant, old);
        await app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s.SetProperty(u => u.EmailVerified, true)));
        using var admin = await app.AdminAsync();

        // Upper case is the same mailbox: still verified, no mail.
        var same = await (await admin.PatchAsJsonAsync($"/api/v1/admin/users/{user}", new { email = old.ToUpperInvariant() })).ReadJsonAsync(200);
        Assert.True(same["data"]!["email_verified"]!.GetValue<bool>());
        var spelled = same["data"]!["email"]!.GetValue<string>();
        Assert.NotEqual(old, spelled);
        Assert.Equal(1, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == old || m.ToAddress == spelled)));

        // Control: another mailbox through the admin route.
        var changed = NewEmail("moved");
        var moved = await (await admin.PatchAsJsonAsync($"/api/v1/admin/users/{user}", new { email = changed })).ReadJsonAsync(200);
        Assert.False(moved["data"]!["email_verified"]!.GetValue<bool>());
        Assert.Equal("email_verification", (await app.DbAsync(db => db.EmailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == changed))).Kind);
        Assert.Equal(1, await app.DbAsync(db => db.EmailOutbox.CountAsync(m => m.ToAddress == spelled && m.Kind == "email_changed")));
    }

    [Fact]
    public async Task Links_in_the_old_mailbox_stop_working_and_an_open_invitation_moves_to_the_new_address()
    {
        await using var mail = MailHarness.Start(app);
        var (tenant, slug) = await TenantAsync();

        // A reset link sent to the old address cannot set the password after the move.
        var resetOld = NewEmail("reset-old");
        var withPassword = await CreateWithPasswordAsync(tenant, resetOld);
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{withPassword}/password/reset", new { method = "EMAIL" })).ShouldBeAsync(200);
        }

        var resetLink = MailHarness.Link(await mail.WaitForAsync(resetOld, "Reset your"));
        using var browser = app.Anonymous();
        await (await browser.GetAsync(resetLink)).ShouldBeAsync(200);
        await PatchEmailAsync(tenant, withPassword, NewEmail("reset-new"));
        await (await browser.GetAsync(resetLink)).ShouldBeAsync(400);

        // An invited user's invitation moves: the old link dies, the new address gets a working one (and no
        // verification link, which could not give a password-less user a way in).
        var invitedOld = NewEmail("invited-old");
        var invitedNew = NewEmail("invited-new");
        var invited = (await app.CreateUserAsync(tenant, new { email = invitedOld }))["id"]!.GetValue<string>();
        var oldInvitation = MailHarness.Link(await mail.WaitForAsync(invitedOld, "invited"));
        await PatchEmailAsync(tenant, invited, invitedNew);
        var newInvitation = MailHarness.Link(await mail.WaitForAsync(invitedNew, "invited"));
        Assert.StartsWith($"http://localhost/t/{slug}/accept-invitation?token=", newInvitation, StringComparison.Ordinal);
        await (await browser.GetAsync(oldInvitation)).ShouldBeAsync(400);
        await (await browser.GetAsync(newInvitation)).ShouldBeAsync(200);
        Assert.Equal(0, await app.DbAsync(db => db.UserActionTokens.CountAsync(t => t.UserId == invited && t.Purpose == "EMAIL_VERIFICATION")));
    }
}
