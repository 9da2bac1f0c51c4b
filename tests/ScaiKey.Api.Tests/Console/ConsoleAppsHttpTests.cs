namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>
/// The applications, identity providers, SCIM tokens, admin clients and signing keys pages over HTTP: who sees which
/// button, the API's refusal of a forged post shown as a page (never a 500), errors next to their fields, and
/// secrets that appear once and never again.
/// </summary>
public sealed class ConsoleAppsHttpTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    internal const string Password = "Console-Apps-2026!";

    /// <summary>A new tenant, its slug, and a user of it holding this tenant role (or PLATFORM_ADMIN), with its email.</summary>
    internal static async Task<(string TenantId, string Slug, string Email)> TenantWithAdminAsync(ScaiKeyApp app, string role)
    {
        var tenantId = await app.CreateTenantAsync();
        using var platform = await app.AdminAsync();
        var slug = (await (await platform.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
        var email = await UserWithRoleAsync(app, tenantId, role);
        return (tenantId, slug, email);
    }

    internal static async Task<JsonNode> ApiAsync(ScaiKeyApp app, string path)
    {
        using var platform = await app.AdminAsync();
        return (await (await platform.GetAsync(path)).ReadJsonAsync(200))["data"]!;
    }

    [Fact]
    public async Task A_tenant_viewer_sees_no_change_buttons_and_its_forged_posts_get_the_apis_refusal_as_a_page()
    {
        var (tenantId, slug, viewerEmail) = await TenantWithAdminAsync(app, "TENANT_VIEWER");
        using var platform = await app.AdminAsync();
        var applicationId = (await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications",
            new { name = "Payroll", type = "WEB", redirect_uris = new[] { "https://payroll.example.com/cb" } })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var keysBefore = (await ApiAsync(app, "/api/v1/admin/signing-keys")).AsArray().Count;

        await using var console = ConsoleHttpSession.Start(app);
        var viewer = await console.SignInAsync(slug, viewerEmail, Password);
        var apps = $"/console/tenants/{tenantId}/applications";

        // The viewer reads applications and identity providers, without any button that changes them.
        var list = await viewer.HtmlAsync(apps);
        Assert.Contains("Payroll", list, StringComparison.Ordinal);
        Assert.DoesNotContain("Register an application", list, StringComparison.Ordinal);
        var page = await viewer.HtmlAsync($"{apps}/{applicationId}");
        foreach (var button in new[] { "Save settings", "Rotate secret…", "Delete application…", ">Assign<", "Remove…" })
        {
            Assert.DoesNotContain(button, page, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Add OpenID Connect", await viewer.HtmlAsync($"/console/tenants/{tenantId}/identity-providers"), StringComparison.Ordinal);

        // SCIM tokens, admin clients and signing keys are not theirs: the API's 403, shown as a page.
        Assert.Contains("Not allowed", await viewer.HtmlAsync($"/console/tenants/{tenantId}/scim-tokens", 403), StringComparison.Ordinal);
        Assert.Contains("Not allowed", await viewer.HtmlAsync("/console/admin-clients", 403), StringComparison.Ordinal);
        Assert.Contains("Not allowed", await viewer.HtmlAsync("/console/signing-keys", 403), StringComparison.Ordinal);

        // Posted anyway with this browser's valid form token: each is the API's refusal (403), and nothing changed.
        var forged = new (string Action, (string, string)[] Fields)[]
        {
            (apps, [("name", "Forged"), ("type", "SERVICE")]),
            ($"{apps}/{applicationId}", [("name", "Renamed"), ("redirect_uris", "https://evil.example/cb"), ("grant_authorization_code", "on")]),
            ($"{apps}/{applicationId}/secret", []),
            ($"{apps}/{applicationId}/delete", []),
            ($"/console/tenants/{tenantId}/identity-providers", [("type", "LDAP"), ("name", "Forged"), ("url", "ldaps://ldap.example.com"), ("base_dn", "dc=example")]),
            ($"/console/tenants/{tenantId}/scim-tokens", [("name", "Forged")]),
            ("/console/admin-clients", [("name", "Forged")]),
            ("/console/signing-keys/rotate", []),
        };
        foreach (var (action, fields) in forged)
        {
            var (status, html, _) = await viewer.PostFormAsync(page, action, fields);
            Assert.True(status == 403, $"POST {action}: expected the API's 403, got {status}\n{html}");
            Assert.Contains("Not allowed", html, StringComparison.Ordinal);
        }

        var application = await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications/{applicationId}");
        Assert.Equal("Payroll", application["name"]!.GetValue<string>());
        Assert.Single((await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications")).AsArray());
        Assert.Empty((await ApiAsync(app, $"/api/v1/tenants/{tenantId}/identity-providers")).AsArray());
        Assert.Equal(keysBefore, (await ApiAsync(app, "/api/v1/admin/signing-keys")).AsArray().Count);

        // Control: a tenant admin of the same tenant is offered the buttons.
        var adminEmail = await UserWithRoleAsync(app, tenantId, "TENANT_ADMIN");
        var admin = await console.SignInAsync(slug, adminEmail, Password);
        Assert.Contains("Register an application", await admin.HtmlAsync(apps), StringComparison.Ordinal);
        var adminPage = await admin.HtmlAsync($"{apps}/{applicationId}");
        Assert.Contains("Save settings", adminPage, StringComparison.Ordinal);
        Assert.Contains("Rotate secret…", adminPage, StringComparison.Ordinal);
        Assert.Contains("Add LDAP directory", await admin.HtmlAsync($"/console/tenants/{tenantId}/identity-providers"), StringComparison.Ordinal);
    }

    /// <summary>A user of the tenant with a password, holding this role (PLATFORM_ADMIN: everywhere); its email.</summary>
    internal static async Task<string> UserWithRoleAsync(ScaiKeyApp app, string tenantId, string role)
    {
        var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@example.com";
        var userId = await app.CreateUserIdAsync(tenantId, email, Password);
        using var platform = await app.AdminAsync();
        await (await platform.PostAsJsonAsync("/api/v1/admin/role-assignments", new
        {
            principal_type = "USER", principal_id = userId, role, tenant_id = role == "PLATFORM_ADMIN" ? null : tenantId,
        })).ShouldBeAsync(201);
        return email;
    }

    [Fact]
    public async Task Secrets_appear_only_in_the_response_that_created_them_and_a_provider_secret_is_never_sent_back()
    {
        var (tenantId, slug, email) = await TenantWithAdminAsync(app, "TENANT_ADMIN");
        await using var console = ConsoleHttpSession.Start(app);
        var admin = await console.SignInAsync(slug, email, Password);
        var apps = $"/console/tenants/{tenantId}/applications";
        var form = await admin.HtmlAsync($"{apps}/new");

        // A confidential application: its secret is on the page the creation answers, and on no page after.
        var (status, created, _) = await admin.PostFormAsync(form, apps,
            ("type", "WEB"), ("name", "Billing"), ("redirect_uris", "https://billing.example.com/cb"), ("consent_required", "on"));
        Assert.True(status == 200, created);
        var secret = ConsolePage.ById(created, "secret");
        Assert.True(secret.Length >= 32, created);
        var applicationId = (await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications"))[0]!["id"]!.GetValue<string>();
        var page = $"{apps}/{applicationId}";
        foreach (var path in new[] { apps, page, $"{page}/confirm/rotate", $"{page}/confirm/delete", $"{apps}/new" })
        {
            Assert.DoesNotContain(secret, await admin.HtmlAsync(path), StringComparison.Ordinal);
        }

        // Rotated: the new one once, neither afterwards.
        var (rotatedStatus, rotated, _) = await admin.PostFormAsync(form, $"{page}/secret");
        Assert.True(rotatedStatus == 200, rotated);
        var second = ConsolePage.ById(rotated, "secret");
        Assert.NotEqual(secret, second);
        var after = await admin.HtmlAsync(page);
        Assert.DoesNotContain(secret, after, StringComparison.Ordinal);
        Assert.DoesNotContain(second, after, StringComparison.Ordinal);

        // An LDAP provider's bind password: never in its page, nor in a refused form shown again.
        const string BindPassword = "Bind-Password-Never-Shown-42";
        var providers = $"/console/tenants/{tenantId}/identity-providers";
        var (createdStatus, _, location) = await admin.PostFormAsync(form, providers, ("type", "LDAP"), ("name", "Corp LDAP"), ("enabled", "on"),
            ("url", "ldaps://ldap.example.com"), ("base_dn", "dc=example,dc=com"), ("bind_dn", "cn=scaikey,dc=example,dc=com"), ("bind_password", BindPassword));
        Assert.True(createdStatus == 302 && location is not null, $"{createdStatus} {location}");
        var providerPage = await admin.HtmlAsync(location);
        Assert.DoesNotContain(BindPassword, providerPage, StringComparison.Ordinal);
        Assert.Equal("bind_password", ConsolePage.ById(providerPage, "secrets-set"));
        var box = System.Text.RegularExpressions.Regex.Match(providerPage, "<input id=\"bind_password\"[^>]*>").Value;
        Assert.Contains("type=\"password\"", box, StringComparison.Ordinal);
        Assert.DoesNotMatch("value=\"[^\"]", box);
        var providerPath = location[..location.IndexOf('?', StringComparison.Ordinal)];
        var (refusedStatus, refused, _) = await admin.PostFormAsync(form, providerPath, ("name", "Corp LDAP"), ("enabled", "on"),
            ("url", "https://not-ldap.example.com"), ("base_dn", "dc=example,dc=com"), ("bind_password", "Typed-Then-Refused-77"));
        Assert.True(refusedStatus == 422, refused);
        Assert.DoesNotContain("Typed-Then-Refused-77", refused, StringComparison.Ordinal);
        Assert.Contains("id=\"url-error\"", refused, StringComparison.Ordinal);

        // Saved with the password box empty: the stored password stays (the API merges config key by key).
        var (savedStatus, saved, _) = await admin.PostFormAsync(form, providerPath, ("name", "Corp LDAP"), ("enabled", "on"),
            ("url", "ldaps://ldap2.example.com"), ("base_dn", "dc=example,dc=com"), ("bind_dn", "cn=scaikey,dc=example,dc=com"), ("bind_password", ""));
        Assert.True(savedStatus == 302, saved);
        var provider = (await ApiAsync(app, $"/api/v1/tenants/{tenantId}/identity-providers"))[0]!;
        Assert.Equal("ldaps://ldap2.example.com", provider["config"]!["url"]!.GetValue<string>());
        Assert.Equal(["bind_password"], provider["secret_fields"]!.AsArray().Select(s => s!.GetValue<string>()));

        // A SCIM token: once.
        var scim = $"/console/tenants/{tenantId}/scim-tokens";
        var (scimStatus, scimCreated, _) = await admin.PostFormAsync(form, scim, ("name", "Entra ID"));
        Assert.True(scimStatus == 200, scimCreated);
        var token = ConsolePage.ById(scimCreated, "secret");
        Assert.StartsWith("scim_", token, StringComparison.Ordinal);
        var tokens = await admin.HtmlAsync(scim);
        Assert.Contains("Entra ID", tokens, StringComparison.Ordinal);
        Assert.DoesNotContain(token, tokens, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_apis_errors_are_shown_next_to_the_fields_they_name_and_the_form_keeps_what_was_typed()
    {
        var (tenantId, slug, email) = await TenantWithAdminAsync(app, "TENANT_ADMIN");
        await using var console = ConsoleHttpSession.Start(app);
        var admin = await console.SignInAsync(slug, email, Password);
        var apps = $"/console/tenants/{tenantId}/applications";
        var form = await admin.HtmlAsync($"{apps}/new");

        // The second redirect URI is plain http on another host: the API's 422 names body.redirect_uris.1.
        var (status, html, _) = await admin.PostFormAsync(form, apps, ("type", "WEB"), ("name", "Shop"),
            ("redirect_uris", "https://shop.example.com/cb\nhttp://shop.example.com/cb"), ("grant_authorization_code", "on"));
        Assert.True(status == 422, html);
        Assert.StartsWith("Line 2:", ConsolePage.ById(html, "redirect_uris-error"), StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\"", html, StringComparison.Ordinal);
        Assert.Contains("https://shop.example.com/cb\nhttp://shop.example.com/cb</textarea>", System.Net.WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Empty((await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications")).AsArray());

        // Assigning an email nobody has: said next to the box; control: an existing user is assigned.
        using var platform = await app.AdminAsync();
        var applicationId = (await (await platform.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications",
            new { name = "Shop", type = "SERVICE" })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var (missingStatus, missing, _) = await admin.PostFormAsync(form, $"{apps}/{applicationId}/assignments", ("user_email", "nobody@example.com"), ("group_id", ""));
        Assert.True(missingStatus == 422, missing);
        Assert.Equal("No user of this tenant has this email.", ConsolePage.ById(missing, "user_email-error"));
        var (assignedStatus, _, assigned) = await admin.PostFormAsync(form, $"{apps}/{applicationId}/assignments", ("user_email", email.ToUpperInvariant()), ("group_id", ""));
        Assert.Equal(302, assignedStatus);
        Assert.EndsWith("?notice=assigned", assigned, StringComparison.Ordinal);
        Assert.Single((await ApiAsync(app, $"/api/v1/tenants/{tenantId}/applications/{applicationId}/assignments")).AsArray());
    }
}
