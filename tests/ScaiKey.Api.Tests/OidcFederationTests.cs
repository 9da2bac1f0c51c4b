using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Sign-in through an upstream OpenID provider (the real oidc-provider on loopback), over HTTP: the redirect chain
/// is followed by hand between ScaiKey's in-memory browser and a browser at the provider.
/// </summary>
public sealed class OidcFederationTests(FederationApp app, OidcPeer peerFixture) : IClassFixture<FederationApp>, IClassFixture<OidcPeer>
{
    private sealed record Upstream(string TenantId, string Slug, string ProviderId);

    private async Task<OidcPeer> PeerAsync() => await peerFixture.StartedAsync();

    private async Task<(string Id, string Slug)> TenantAsync(object? settings = null)
    {
        var id = await app.CreateTenantAsync(settings: settings);
        using var admin = await app.AdminAsync();
        var tenant = await (await admin.GetAsync($"/api/v1/admin/tenants/{id}")).ReadJsonAsync(200);
        return (id, tenant["data"]!["slug"]!.GetValue<string>());
    }

    /// <summary>An OIDC provider of the tenant, registered at the peer with the redirect_uri ScaiKey reports.</summary>
    private async Task<Upstream> ProviderAsync((string Id, string Slug) tenant, bool trustEmail = false, string[]? domains = null, string name = "Upstream")
    {
        var peer = await PeerAsync();
        using var admin = await app.AdminAsync();
        var config = new JsonObject { ["issuer"] = peer.Issuer, ["client_id"] = "not-registered-yet", ["trust_email"] = trustEmail };
        if (domains is not null)
        {
            config["domains"] = new JsonArray(domains.Select(d => (JsonNode)d).ToArray());
        }

        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers",
            new JsonObject { ["name"] = name, ["type"] = "OIDC", ["config"] = config })).ReadJsonAsync(201))["data"]!;
        var id = created["id"]!.GetValue<string>();
        var (clientId, secret) = await peer.RegisterClientAsync(created["redirect_uri"]!.GetValue<string>());
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers/{id}",
            new { config = new { client_id = clientId, client_secret = secret } })).ShouldBeAsync(200);
        return new Upstream(tenant.Id, tenant.Slug, id);
    }

    private HttpClient Browser() => app.Host.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = true });

    private static string StartPath(Upstream upstream, string? returnUrl = null) =>
        $"/t/{upstream.Slug}/federation/{upstream.ProviderId}/oidc/start" + (returnUrl is null ? "" : "?return_url=" + Uri.EscapeDataString(returnUrl));

    /// <summary>From ScaiKey's start route through the provider (as <paramref name="account"/>) to ScaiKey's callback URL.</summary>
    private async Task<string> CallbackUrlAsync(HttpClient browser, string startPath, string? account)
    {
        var peer = await PeerAsync();
        var start = await browser.GetAsync(startPath);
        await start.ShouldBeAsync(303);
        using var atPeer = peer.Browser();
        var back = await peer.SignInAsync(atPeer, start.Headers.Location!, account);
        Assert.StartsWith("http://localhost/federation/", back.AbsoluteUri, StringComparison.Ordinal);
        return back.PathAndQuery;
    }

    private async Task<HttpResponseMessage> SignInAsync(HttpClient browser, Upstream upstream, string? account, string? returnUrl = null) =>
        await browser.GetAsync(await CallbackUrlAsync(browser, StartPath(upstream, returnUrl), account));

    private static async Task<string> PageAsync(HttpResponseMessage response, int status)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}\n{html}");
        return html;
    }

    private Task<List<string>> AuditAsync(string tenantId, string action) =>
        app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TenantId == tenantId && e.Action == action)
            .OrderBy(e => e.CreatedAt).Select(e => e.TargetId + "|" + e.Reason).ToListAsync());

    [PeerFact("node", "peers")]
    public async Task A_first_sign_in_provisions_a_verified_oidc_user_with_its_link_and_the_next_one_uses_the_link()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        var account = await peer.AccountAsync("Jit.User@Corp.Example", emailVerified: true, given: "Jit", family: "User");
        using var browser = Browser();

        var html = await PageAsync(await SignInAsync(browser, upstream, account), 200);
        Assert.Contains("You are signed in", html, StringComparison.Ordinal);

        var user = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.TenantId == tenant.Id));
        // Stored as an admin's user creation stores it: the domain lower-cased, the local part kept.
        Assert.Equal(("Jit.User@corp.example", "jit.user@corp.example"), (user.Email, user.EmailNormalized));
        Assert.Equal((IdentitySource.Oidc, true, UserStatus.Active, "Jit", "User"), (user.IdentitySource, user.EmailVerified, user.Status, user.FirstName, user.LastName));
        Assert.Null(user.PasswordHash);
        var link = await app.DbAsync(db => db.FederatedIdentities.AsNoTracking().SingleAsync(f => f.UserId == user.Id));
        Assert.Equal((upstream.ProviderId, account, "Jit.User@Corp.Example"), (link.IdentityProviderId, link.Subject, link.Email));
        Assert.Equal([$"{user.Id}|OIDC identity provider {upstream.ProviderId}"], await AuditAsync(tenant.Id, "federation.provisioned"));
        Assert.Single(await AuditAsync(tenant.Id, "user.signed_in"), e => e.Contains("amr=fed", StringComparison.Ordinal));

        // Again, in a new browser: the link signs the same user in; nobody new is made.
        using var again = Browser();
        await PageAsync(await SignInAsync(again, upstream, account), 200);
        Assert.Equal(1, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenant.Id)));
        Assert.Equal([$"{user.Id}|OIDC identity provider {upstream.ProviderId}"], await AuditAsync(tenant.Id, "federation.signed_in"));
    }

    [PeerFact("node", "peers")]
    public async Task The_login_pages_button_signs_in_through_the_provider_and_the_application_gets_a_code_with_amr_fed()
    {
        var peer = await PeerAsync();
        var client = await OidcTestClient.CreateAsync(app);
        var upstream = await ProviderAsync((client.TenantId, client.Slug), name: "Corp SSO");
        var account = await peer.AccountAsync("button@corp.example", emailVerified: false);
        using var browser = Browser();
        var pkce = Pkce.Create();

        var authorize = await browser.GetAsync(client.AuthorizeUrl(pkce));
        var login = await PageAsync(await browser.GetAsync(authorize.Headers.Location!.OriginalString), 200);
        var button = Regex.Match(login, "<a class=\"provider\" href=\"([^\"]+)\">Sign in with Corp SSO</a>");
        Assert.True(button.Success, login);
        var start = WebUtility.HtmlDecode(button.Groups[1].Value);
        Assert.StartsWith(StartPath(upstream) + "?return_url=", start, StringComparison.Ordinal);

        var signedIn = await browser.GetAsync(await CallbackUrlAsync(browser, start, account));
        await signedIn.ShouldBeAsync(303);
        var code = await client.CodeFromAsync(await browser.GetAsync(signedIn.Headers.Location!.OriginalString), "state-1");
        var tokens = await (await client.RedeemAsync(app, code, pkce.Verifier)).ReadJsonAsync(200);
        var id = Jwt.Payload(tokens["id_token"]!.GetValue<string>());
        Assert.Equal("[\"fed\"]", id["amr"]!.ToJsonString());
        Assert.Equal(("button@corp.example", false), (id["email"]!.GetValue<string>(), id["email_verified"]!.GetValue<bool>()));
    }

    [PeerFact("node", "peers")]
    public async Task A_local_users_email_links_at_once_only_with_trust_email_a_verified_email_and_no_roles()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var trusted = await ProviderAsync(tenant, trustEmail: true);
        async Task<string> VerifiedAsync(string email)
        {
            // As after the user followed the verification link.
            var id = await app.CreateUserIdAsync(tenant.Id, email, OidcTestClient.Password);
            await app.DbAsync(db => db.Users.Where(u => u.Id == id).ExecuteUpdateAsync(x => x.SetProperty(u => u.EmailVerified, true)));
            return id;
        }

        var local = await VerifiedAsync("local@corp.example");
        var boss = await VerifiedAsync("boss@corp.example");
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
                new { principal_type = "USER", principal_id = boss, role = "TENANT_VIEWER", tenant_id = tenant.Id })).ShouldBeAsync(201);
        }

        // Trusted and verified: linked and signed in, no password asked.
        using var browser = Browser();
        await PageAsync(await SignInAsync(browser, trusted, await peer.AccountAsync("local@corp.example", emailVerified: true)), 200);
        Assert.Equal([$"{local}|OIDC identity provider {trusted.ProviderId}"], await AuditAsync(tenant.Id, "federation.linked"));
        Assert.Equal(IdentitySource.Local, await app.DbAsync(db => db.Users.Where(u => u.Id == local).Select(u => u.IdentitySource).SingleAsync()));

        // A LOCAL user with an OIDC link is real drift: the mismatches endpoint reports it and fix=true repairs it (point 4).
        using (var admin = await app.AdminAsync())
        {
            var mismatches = $"/api/v1/admin/users/identity-source/mismatches?tenant_id={tenant.Id}";
            var report = await (await admin.GetAsync(mismatches)).ReadJsonAsync(200);
            Assert.Contains(report["data"]!.AsArray(), r => r!["user_id"]!.GetValue<string>() == local
                && r["expected_identity_source"]!.GetValue<string>() == "OIDC" && r["identity_provider_id"]!.GetValue<string>() == trusted.ProviderId);
            Assert.Equal(1, (await (await admin.GetAsync(mismatches + "&fix=true")).ReadJsonAsync(200))["fixed"]!.GetValue<int>());
        }

        Assert.Equal(IdentitySource.Oidc, await app.DbAsync(db => db.Users.Where(u => u.Id == local).Select(u => u.IdentitySource).SingleAsync()));

        // The same provider, but the email is not verified upstream, or the user holds a role: the password first.
        var second = await VerifiedAsync("local2@corp.example");
        using var unverified = Browser();
        var asked = await SignInAsync(unverified, trusted, await peer.AccountAsync("LOCAL2@corp.example", emailVerified: false));
        await asked.ShouldBeAsync(303);
        Assert.StartsWith($"/t/{tenant.Slug}/federation/link?request=", asked.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == second)));
        using var roleBrowser = Browser();
        var forBoss = await SignInAsync(roleBrowser, trusted, await peer.AccountAsync("boss@corp.example", emailVerified: true));
        await forBoss.ShouldBeAsync(303);
        Assert.StartsWith($"/t/{tenant.Slug}/federation/link?request=", forBoss.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == boss)));

        // Nor when the local address was never verified (an admin's typo, an invitation not yet accepted), or lies
        // outside the domains the provider lists (found in the attacker's review).
        var unconfirmed = await app.CreateUserIdAsync(tenant.Id, "typo@corp.example", OidcTestClient.Password);
        using var typoBrowser = Browser();
        var forTypo = await SignInAsync(typoBrowser, trusted, await peer.AccountAsync("typo@corp.example", emailVerified: true));
        Assert.StartsWith($"/t/{tenant.Slug}/federation/link?request=", forTypo.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == unconfirmed)));
        var scoped = await ProviderAsync(tenant, trustEmail: true, domains: ["other.example"], name: "Scoped");
        var outside = await VerifiedAsync("outside@corp.example");
        using var outsideBrowser = Browser();
        var forOutside = await SignInAsync(outsideBrowser, scoped, await peer.AccountAsync("outside@corp.example", emailVerified: true));
        Assert.StartsWith($"/t/{tenant.Slug}/federation/link?request=", forOutside.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == outside)));
    }

    [PeerFact("node", "peers")]
    public async Task Without_trust_email_the_local_user_confirms_with_their_password_and_then_the_link_signs_in()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant, trustEmail: false);
        var local = await app.CreateUserIdAsync(tenant.Id, "confirm@corp.example", OidcTestClient.Password);
        var account = await peer.AccountAsync("confirm@corp.example", emailVerified: true);
        using var browser = Browser();

        var asked = await SignInAsync(browser, upstream, account);
        await asked.ShouldBeAsync(303);
        var linkPage = asked.Headers.Location!.OriginalString;
        var form = await PageAsync(await browser.GetAsync(linkPage), 200);
        Assert.Contains("confirm@corp.example", form, StringComparison.Ordinal);

        // Another browser (no binding cookie) cannot use the pending link, even with the password.
        using var other = Browser();
        await PageAsync(await other.GetAsync(linkPage), 400);

        // A wrong password: counted like a sign-in failure, nothing linked.
        var wrong = await PageAsync(await browser.PostAsync($"/t/{tenant.Slug}/federation/link", Forms.From(form, ("password", "Not-The-Password-1"))), 200);
        Assert.Contains("Invalid password.", wrong, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == local)));
        Assert.Equal(1, await app.DbAsync(db => db.Users.Where(u => u.Id == local).Select(u => u.FailedLoginAttempts).SingleAsync()));

        var done = await PageAsync(await browser.PostAsync($"/t/{tenant.Slug}/federation/link", Forms.From(wrong, ("password", OidcTestClient.Password))), 200);
        Assert.Contains("You are signed in", done, StringComparison.Ordinal);
        Assert.Equal([$"{local}|OIDC identity provider {upstream.ProviderId}"], await AuditAsync(tenant.Id, "federation.linked"));
        Assert.Single(await AuditAsync(tenant.Id, "user.signed_in"), e => e.Contains("amr=fed pwd", StringComparison.Ordinal));

        // The pending link is used up; from now on the provider alone signs the user in.
        await PageAsync(await browser.PostAsync($"/t/{tenant.Slug}/federation/link", Forms.From(wrong, ("password", OidcTestClient.Password))), 400);
        using var later = Browser();
        await PageAsync(await SignInAsync(later, upstream, account), 200);
        Assert.Equal([$"{local}|OIDC identity provider {upstream.ProviderId}"], await AuditAsync(tenant.Id, "federation.signed_in"));
    }

    [PeerFact("node", "peers")]
    public async Task A_link_confirmed_with_the_password_waits_for_the_users_second_factor()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant, trustEmail: false);
        var local = await app.CreateUserIdAsync(tenant.Id, "guarded@corp.example", OidcTestClient.Password);

        // The user has a TOTP factor (enrolled through the service; its confirming step given back so the code works now).
        byte[] secret;
        await using (var scope = app.Host.Services.CreateAsyncScope())
        {
            var factors = scope.ServiceProvider.GetRequiredService<ScaiKey.Api.Mfa.SecondFactors>();
            var enrolment = await factors.BeginTotpAsync(tenant.Id, local, "Phone", "ScaiKey tests", local, CancellationToken.None);
            secret = OtpNet.Base32Encoding.ToBytes(enrolment.Secret);
            Assert.NotNull(await factors.ConfirmTotpAsync(tenant.Id, local, enrolment.FactorId,
                ScaiKey.Api.Mfa.TotpCodes.Compute(secret, DateTime.UtcNow), CancellationToken.None));
        }

        await app.DbAsync(db => db.MfaFactors.Where(f => f.UserId == local).ExecuteUpdateAsync(x => x.SetProperty(f => f.LastUsedStep, (long?)null)));
        using var browser = Browser();
        var asked = await SignInAsync(browser, upstream, await peer.AccountAsync("guarded@corp.example", emailVerified: true));
        var form = await PageAsync(await browser.GetAsync(asked.Headers.Location!.OriginalString), 200);

        // A phished password alone: on to the second-factor page, and no link yet.
        var posted = await browser.PostAsync($"/t/{tenant.Slug}/federation/link", Forms.From(form, ("password", OidcTestClient.Password)));
        await posted.ShouldBeAsync(303);
        Assert.Equal($"/t/{tenant.Slug}/mfa", posted.Headers.Location!.OriginalString);
        Assert.Equal(0, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == local)));

        // The second factor shown: signed in, and the link written.
        var page = await PageAsync(await browser.GetAsync($"/t/{tenant.Slug}/mfa"), 200);
        var done = await browser.PostAsync($"/t/{tenant.Slug}/mfa", Forms.From(page, ("code", ScaiKey.Api.Mfa.TotpCodes.Compute(secret, DateTime.UtcNow))));
        Assert.True(done.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.SeeOther, await done.Content.ReadAsStringAsync());
        Assert.Equal(1, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == local && f.IdentityProviderId == upstream.ProviderId)));
    }

    [PeerFact("node", "peers")]
    public async Task A_disabled_provider_signs_nobody_in_and_does_again_once_enabled()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        var account = await peer.AccountAsync("disabled@corp.example", emailVerified: true);
        using var browser = Browser();
        await PageAsync(await SignInAsync(browser, upstream, account), 200);

        // A flow already at the provider when the provider is disabled is refused too.
        using var inFlight = Browser();
        var callback = await CallbackUrlAsync(inFlight, StartPath(upstream), account);
        using var admin = await app.AdminAsync();
        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers/{upstream.ProviderId}", new { enabled = false })).ShouldBeAsync(200);
        await PageAsync(await inFlight.GetAsync(callback), 400);
        var refused = await PageAsync(await browser.GetAsync(StartPath(upstream)), 400);
        Assert.Contains("not available", refused, StringComparison.Ordinal);
        Assert.Contains($"{upstream.ProviderId}|provider_disabled", await AuditAsync(tenant.Id, "federation.refused"));
        Assert.DoesNotContain("Sign in with Upstream", await (await browser.GetAsync($"/t/{tenant.Slug}/login")).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await (await admin.PatchAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers/{upstream.ProviderId}", new { enabled = true })).ShouldBeAsync(200);
        await PageAsync(await SignInAsync(browser, upstream, account), 200);
    }

    [PeerFact("node", "peers")]
    public async Task Home_realm_discovery_sends_an_email_of_a_listed_domain_to_its_provider_without_a_password()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant, domains: ["realm.example"]);
        using var browser = Browser();
        var login = await PageAsync(await browser.GetAsync($"/t/{tenant.Slug}/login"), 200);

        // Another domain without a password: the usual answer.
        var other = await PageAsync(await browser.PostAsync($"/t/{tenant.Slug}/login", Forms.From(login, ("email", "x@elsewhere.example"), ("password", ""))), 200);
        Assert.Contains("Enter your email address and password.", other, StringComparison.Ordinal);

        var posted = await browser.PostAsync($"/t/{tenant.Slug}/login", Forms.From(other, ("email", "Someone@REALM.example"), ("password", "")));
        await posted.ShouldBeAsync(303);
        Assert.Equal(StartPath(upstream), posted.Headers.Location!.OriginalString);

        // The browser leaves the login page's form for the provider: its origin is allowed as a form target.
        Assert.EndsWith("form-action 'self' " + peer.Issuer, posted.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var account = await peer.AccountAsync("someone@realm.example", emailVerified: true);
        await PageAsync(await browser.GetAsync(await CallbackUrlAsync(browser, posted.Headers.Location!.OriginalString, account)), 200);
    }

    [PeerFact("node", "peers")]
    public async Task A_made_up_state_a_replayed_callback_another_browser_and_a_cancelled_sign_in_are_refused()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        var account = await peer.AccountAsync("replay@corp.example", emailVerified: true);
        using var browser = Browser();
        var callback = await CallbackUrlAsync(browser, StartPath(upstream), account);

        // Someone else's browser opening the callback URL: refused, and the flow stays the original browser's.
        using var stranger = Browser();
        await PageAsync(await stranger.GetAsync(callback), 400);
        await PageAsync(await browser.GetAsync(callback), 200);

        // The same callback again (a replay): the state was used.
        await PageAsync(await browser.GetAsync(callback), 400);
        var madeUp = Regex.Replace(callback, "state=[^&]+", "state=made-up-state");
        await PageAsync(await browser.GetAsync(madeUp), 400);

        // Cancelled at the provider: error=access_denied comes back.
        var cancelled = await CallbackUrlAsync(browser, StartPath(upstream), account: null);
        Assert.Contains("error=access_denied", cancelled, StringComparison.Ordinal);
        Assert.Contains("did not sign you in", await PageAsync(await browser.GetAsync(cancelled), 400), StringComparison.Ordinal);

        var reasons = (await AuditAsync(tenant.Id, "federation.refused")).Select(e => e.Split('|')[1]).ToList();
        Assert.Equal(["browser_mismatch", "request_expired_or_used", "bad_state", "upstream_error"], reasons);
        Assert.Single(await AuditAsync(tenant.Id, "federation.provisioned"));
    }

    [PeerFact("node", "peers")]
    public async Task An_id_token_with_another_flows_nonce_is_refused()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        var account = await peer.AccountAsync("nonce@corp.example", emailVerified: true);
        using var browser = Browser();

        // Two flows in one browser; flow B's request carries flow A's nonce (a code minted for another sign-in).
        var a = QueryHelpers.ParseQuery((await browser.GetAsync(StartPath(upstream))).Headers.Location!.Query);
        var bStart = (await browser.GetAsync(StartPath(upstream))).Headers.Location!;
        var swapped = new Uri(Regex.Replace(bStart.AbsoluteUri, "nonce=[^&]+", "nonce=" + Uri.EscapeDataString(a["nonce"].ToString())));
        using var atPeer = peer.Browser();
        var back = await peer.SignInAsync(atPeer, swapped, account);
        await PageAsync(await browser.GetAsync(back.PathAndQuery), 400);
        Assert.Equal([$"{upstream.ProviderId}|invalid_id_token"], await AuditAsync(tenant.Id, "federation.refused"));
        Assert.Equal(0, await app.DbAsync(db => db.Users.CountAsync(u => u.TenantId == tenant.Id)));

        // Control: flow B as it was sent signs in.
        using var atPeer2 = peer.Browser();
        var good = await peer.SignInAsync(atPeer2, await StartAsync(browser, upstream), account);
        await PageAsync(await browser.GetAsync(good.PathAndQuery), 200);
    }

    private static async Task<Uri> StartAsync(HttpClient browser, Upstream upstream) =>
        (await browser.GetAsync(StartPath(upstream))).Headers.Location!;

    [PeerFact("node", "peers")]
    public async Task A_tenant_that_approves_new_users_gets_a_provisioned_user_pending_approval_who_is_not_signed_in()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync(new { require_approval = true });
        var upstream = await ProviderAsync(tenant);
        using var browser = Browser();
        var html = await PageAsync(await SignInAsync(browser, upstream, await peer.AccountAsync("approve@corp.example", emailVerified: true)), 403);
        Assert.Contains("not active yet", html, StringComparison.Ordinal);
        var user = await app.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.TenantId == tenant.Id));
        Assert.Equal((UserStatus.PendingApproval, IdentitySource.Oidc), (user.Status, user.IdentitySource));
        Assert.Equal([$"{upstream.ProviderId}|pending_approval"], await AuditAsync(tenant.Id, "federation.refused"));
        Assert.Empty(await AuditAsync(tenant.Id, "user.signed_in"));
    }

    [PeerFact("node", "peers")]
    public async Task The_start_route_refuses_a_return_url_the_login_page_would_refuse()
    {
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        using var browser = Browser();
        var html = await PageAsync(await browser.GetAsync(StartPath(upstream, "https://evil.example.com/connect/authorize?x=1")), 400);
        Assert.Contains("This sign-in address is not valid", html, StringComparison.Ordinal);
        Assert.Equal(0, await app.DbAsync(db => db.FederationRequests.CountAsync(r => r.IdentityProviderId == upstream.ProviderId)));

        // Control: the account page of the tenant is a return URL the login page accepts.
        var ok = await browser.GetAsync(StartPath(upstream, $"/t/{tenant.Slug}/account"));
        await ok.ShouldBeAsync(303);
        Assert.StartsWith((await PeerAsync()).Issuer, ok.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    [PeerFact("node", "peers")]
    public async Task A_rotation_of_the_providers_signing_keys_is_followed()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var upstream = await ProviderAsync(tenant);
        var account = await peer.AccountAsync("rotate@corp.example", emailVerified: true);
        using var browser = Browser();
        await PageAsync(await SignInAsync(browser, upstream, account), 200);

        var before = await peer.KeyIdsAsync();
        await peer.RotateKeysAsync();
        Assert.NotEqual(before, await peer.KeyIdsAsync());

        // The ID token is signed with a key the cached set lacks: the keys are fetched again and it validates.
        await PageAsync(await SignInAsync(browser, upstream, account), 200);
        Assert.Empty(await AuditAsync(tenant.Id, "federation.refused"));
    }

    [PeerFact("node", "peers")]
    public async Task A_provider_with_links_cannot_be_deleted_and_one_without_can()
    {
        var peer = await PeerAsync();
        var tenant = await TenantAsync();
        var used = await ProviderAsync(tenant, name: "Used");
        var unused = await ProviderAsync(tenant, name: "Unused");
        using var browser = Browser();
        await PageAsync(await SignInAsync(browser, used, await peer.AccountAsync("linked@corp.example", emailVerified: true)), 200);

        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant.Id}/identity-providers/{used.ProviderId}")).ReadProblemAsync(409);
        await (await admin.DeleteAsync($"/api/v1/tenants/{tenant.Id}/identity-providers/{unused.ProviderId}")).ShouldBeAsync(204);
    }

    [Fact]
    public async Task The_oidc_keys_are_validated()
    {
        var tenant = await TenantAsync();
        using var admin = await app.AdminAsync();
        var response = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers", new
        {
            name = "Bad", type = "OIDC",
            config = new
            {
                issuer = "https://idp.example.com", client_id = "x", scopes = 5, trust_email = "yes",
                domains = new object[] { "corp.example", "not a domain", "CORP.example" }, claims = new { email = "mail", phone = "tel" },
            },
        });
        Assert.Equal(
            ["body.config.claims.phone|value_error", "body.config.domains.1|value_error", "body.config.domains.2|value_error",
                "body.config.scopes|value_error", "body.config.trust_email|bool_type"],
            (await response.ReadValidationErrorsAsync()).Order(StringComparer.Ordinal).ToList());

        // Control: the same keys, well formed.
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant.Id}/identity-providers", new
        {
            name = "Good", type = "OIDC",
            config = new { issuer = "https://idp.example.com", client_id = "x", scopes = "openid email", trust_email = true, domains = new[] { "corp.example" }, claims = new { email = "mail" } },
        })).ShouldBeAsync(201);
    }
}
