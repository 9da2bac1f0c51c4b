using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Every route of the app against every kind of caller (platform.md, "Who may do what"), driven by one table and by
/// the app's own route list: a route without a row, or a row without a route, fails the test.
/// Requests are shaped so that an allowed caller gets a deterministic answer without changing the world
/// (an invalid body: 422; an unknown id: 404; a stale If-Match: 412), while a refused one gets 401, 403 or 404.
/// </summary>
public sealed class AuthorizationMatrixTests(ScaiKeyApp app, ITestOutputHelper output) : IClassFixture<ScaiKeyApp>
{
    /// <summary>The columns of the table, in order.</summary>
    private static readonly string[] Callers =
    [
        "anonymous", "platform admin", "partner admin (in)", "partner admin (out)", "tenant admin", "tenant admin (other tenant)",
        "helpdesk", "viewer", "app (assigned)", "app (not assigned)",
        "platform admin's token to a tenant app", "partner admin's token to a tenant app", "tenant admin's token to a tenant app",
        "platform admin (console user)", "tenant admin (console user)", "user's account token (first-party app)",
    ];

    /// <summary>
    /// The last six columns follow from the first ten: a user's token issued to a tenant application is refused on
    /// every management route (401: its audience is the application), and a console token with scaikey.admin acts
    /// exactly as the user's role does (the platform admin and tenant admin columns). Outside /api the three user-token
    /// columns answer like an anonymous caller unless the row says otherwise (userinfo, which serves user tokens).
    /// A user's account-scope token of a first-party application is refused by every management route (403) and
    /// answers <see cref="Row.Account"/> on the account API; the account API refuses the console tokens (403).
    /// </summary>
    private static int[] Expected(Row row)
    {
        var api = row.Route.Split(' ')[1].StartsWith("/api/", StringComparison.Ordinal);
        var user = api ? 401 : row.UserToken ?? row.Expected[0];
        var account = row.Account ?? (api ? 403 : user);
        return [.. row.Expected, user, user, user, api ? row.Expected[1] : user, api ? row.Expected[4] : user, account];
    }

    private const string None = "00000000-0000-7000-8000-000000000000";
    private const string UserPassword = "Matrix-Password-2026!";

    private sealed record World(
        string P, string T, string TName, string X, string XEmail, string G, string O, string A, string AssignmentA,
        string I, string F, string R, string C);

    private sealed record Row(string Route, Func<World, HttpRequestMessage> Request, int[] Expected, int? UserToken = null, int? Account = null);

    // Expected answers per column: anonymous, platform, partner in, partner out, tenant admin, tenant admin out, helpdesk, viewer, app in, app out
    // (the user-token columns follow from these: see Expected).
    private static int[] Everyone(int s) => [s, s, s, s, s, s, s, s, s, s];

    private static int[] PlatformOnly(int s) => [401, s, 403, 403, 403, 403, 403, 403, 403, 403];

    private static int[] AdminScoped(int inside, int outside) => [401, inside, inside, outside, 403, 403, 403, 403, 403, 403];

    private static int[] TenantRead(int s) => [401, s, s, 403, s, 403, s, s, 403, 403];

    private static int[] TenantSupport(int s) => [401, s, s, 403, s, 403, s, 403, 403, 403];

    private static int[] TenantAdmin(int s) => [401, s, s, 403, s, 403, 403, 403, 403, 403];

    // The account API: no management caller gets in (the answer for the account token is the row's Account).
    private static int[] AccountOnly() => [401, 403, 403, 403, 403, 403, 403, 403, 403, 403];

    private static HttpRequestMessage Req(HttpMethod method, string path, string? json = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return request;
    }

    private static Row Get(string route, Func<World, string> path, int[] expected) => new("GET " + route, w => Req(HttpMethod.Get, path(w)), expected);

    private static Row Post(string route, Func<World, string> path, string? json, int[] expected) => new("POST " + route, w => Req(HttpMethod.Post, path(w), json), expected);

    private static Row Patch(string route, Func<World, string> path, Func<World, string> json, int[] expected, string? ifMatch = null) =>
        new("PATCH " + route, w => Req(HttpMethod.Patch, path(w), json(w), ifMatch), expected);

    private static Row Put(string route, Func<World, string> path, string json, int[] expected) => new("PUT " + route, w => Req(HttpMethod.Put, path(w), json), expected);

    private static Row Delete(string route, Func<World, string> path, int[] expected, string? ifMatch = null) =>
        new("DELETE " + route, w => Req(HttpMethod.Delete, path(w), ifMatch: ifMatch), expected);

    private const string BadName = """{"name": 5}""";
    private const string Stale = "\"999999\"";

    private static readonly Row[] Table =
    [
        // Anonymous infrastructure.
        Get("/healthz", _ => "/healthz", Everyone(200)),
        Get("/readyz", _ => "/readyz", Everyone(200)),

        // The Prometheus endpoint, mapped for every method; off by default (TelemetryTests switch it on): 404 for all.
        new("* /metrics", _ => Req(HttpMethod.Get, "/metrics"), Everyone(404)),
        Get("/openapi.json", _ => "/openapi.json", Everyone(200)),
        Get("/docs", _ => "/docs", Everyone(200)),
        Get("/assets/passkeys.js", _ => "/assets/passkeys.js", Everyone(200)),
        Post("/connect/token", _ => "/connect/token", null, Everyone(400)),

        // The admin console (AdminConsole/): its own cookie session, not bearer tokens. Pages send a caller without a
        // console session to sign in (302; sign-in/start to the authorization endpoint); every POST without the console's form token is 400.
        Get("/console", _ => "/console", Everyone(302)),
        Get("/console/console.css", _ => "/console/console.css", Everyone(200)),
        Get("/console/sign-in", _ => "/console/sign-in", Everyone(200)),
        Get("/console/sign-in/start", _ => "/console/sign-in/start", Everyone(302)),
        Get("/console/callback", _ => "/console/callback", Everyone(200)),
        Post("/console/sign-out", _ => "/console/sign-out", null, Everyone(400)),
        Get("/console/tenants", _ => "/console/tenants", Everyone(302)),
        Get("/console/partners", _ => "/console/partners", Everyone(302)),
        Post("/console/partners", _ => "/console/partners", null, Everyone(400)),
        Get("/console/partners/{partnerId}", w => $"/console/partners/{w.P}", Everyone(302)),
        Post("/console/partners/{partnerId}/rename", w => $"/console/partners/{w.P}/rename", null, Everyone(400)),
        Get("/console/tenants/new", _ => "/console/tenants/new", Everyone(302)),
        Post("/console/tenants/new", _ => "/console/tenants/new", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/first-admin", w => $"/console/tenants/{w.T}/first-admin", Everyone(302)),
        Post("/console/tenants/{tenantId}/first-admin", w => $"/console/tenants/{w.T}/first-admin", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/settings", w => $"/console/tenants/{w.T}/settings", Everyone(302)),
        Post("/console/tenants/{tenantId}/settings", w => $"/console/tenants/{w.T}/settings", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/users", w => $"/console/tenants/{w.T}/users", Everyone(302)),
        Get("/console/tenants/{tenantId}/users/{userId}", w => $"/console/tenants/{w.T}/users/{w.X}", Everyone(302)),
        Get("/console/tenants/{tenantId}/users/{userId}/confirm/{action}", w => $"/console/tenants/{w.T}/users/{w.X}/confirm/delete", Everyone(302)),
        Post("/console/tenants/{tenantId}/users/{userId}/profile", w => $"/console/tenants/{w.T}/users/{w.X}/profile", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/unlock", w => $"/console/tenants/{w.T}/users/{w.X}/unlock", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/enable", w => $"/console/tenants/{w.T}/users/{w.X}/enable", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/disable", w => $"/console/tenants/{w.T}/users/{w.X}/disable", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/lock", w => $"/console/tenants/{w.T}/users/{w.X}/lock", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/mfa-disable", w => $"/console/tenants/{w.T}/users/{w.X}/mfa-disable", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/reset", w => $"/console/tenants/{w.T}/users/{w.X}/reset", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/users/{userId}/delete", w => $"/console/tenants/{w.T}/users/{w.X}/delete", null, Everyone(400)),
        // Console: applications, identity providers, admin clients, SCIM tokens and signing keys (ApplicationPages.cs and its group).
        Get("/console/tenants/{tenantId}/applications", w => $"/console/tenants/{w.T}/applications", Everyone(302)),
        Get("/console/tenants/{tenantId}/applications/new", w => $"/console/tenants/{w.T}/applications/new", Everyone(302)),
        Post("/console/tenants/{tenantId}/applications", w => $"/console/tenants/{w.T}/applications", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/applications/{applicationId}", w => $"/console/tenants/{w.T}/applications/{w.X}", Everyone(302)),
        Post("/console/tenants/{tenantId}/applications/{applicationId}", w => $"/console/tenants/{w.T}/applications/{w.X}", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/applications/{applicationId}/confirm/{action}", w => $"/console/tenants/{w.T}/applications/{w.X}/confirm/delete", Everyone(302)),
        Post("/console/tenants/{tenantId}/applications/{applicationId}/secret", w => $"/console/tenants/{w.T}/applications/{w.X}/secret", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/applications/{applicationId}/delete", w => $"/console/tenants/{w.T}/applications/{w.X}/delete", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/applications/{applicationId}/assignments", w => $"/console/tenants/{w.T}/applications/{w.X}/assignments", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/applications/{applicationId}/assignments/{assignmentId}/delete", w => $"/console/tenants/{w.T}/applications/{w.X}/assignments/{w.X}/delete", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/identity-providers", w => $"/console/tenants/{w.T}/identity-providers", Everyone(302)),
        Get("/console/tenants/{tenantId}/identity-providers/new", w => $"/console/tenants/{w.T}/identity-providers/new", Everyone(302)),
        Post("/console/tenants/{tenantId}/identity-providers", w => $"/console/tenants/{w.T}/identity-providers", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/identity-providers/{providerId}", w => $"/console/tenants/{w.T}/identity-providers/{w.X}", Everyone(302)),
        Post("/console/tenants/{tenantId}/identity-providers/{providerId}", w => $"/console/tenants/{w.T}/identity-providers/{w.X}", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/identity-providers/{providerId}/confirm/delete", w => $"/console/tenants/{w.T}/identity-providers/{w.X}/confirm/delete", Everyone(302)),
        Post("/console/tenants/{tenantId}/identity-providers/{providerId}/delete", w => $"/console/tenants/{w.T}/identity-providers/{w.X}/delete", null, Everyone(400)),
        Get("/console/admin-clients", _ => "/console/admin-clients", Everyone(302)),
        Post("/console/admin-clients", _ => "/console/admin-clients", null, Everyone(400)),
        Get("/console/admin-clients/{clientId}/confirm/delete", w => $"/console/admin-clients/{w.X}/confirm/delete", Everyone(302)),
        Post("/console/admin-clients/{clientId}/delete", w => $"/console/admin-clients/{w.X}/delete", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/scim-tokens", w => $"/console/tenants/{w.T}/scim-tokens", Everyone(302)),
        Post("/console/tenants/{tenantId}/scim-tokens", w => $"/console/tenants/{w.T}/scim-tokens", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/scim-tokens/{tokenId}/confirm/delete", w => $"/console/tenants/{w.T}/scim-tokens/{w.X}/confirm/delete", Everyone(302)),
        Post("/console/tenants/{tenantId}/scim-tokens/{tokenId}/delete", w => $"/console/tenants/{w.T}/scim-tokens/{w.X}/delete", null, Everyone(400)),
        Get("/console/signing-keys", _ => "/console/signing-keys", Everyone(302)),
        Get("/console/signing-keys/confirm/rotate", _ => "/console/signing-keys/confirm/rotate", Everyone(302)),
        Post("/console/signing-keys/rotate", _ => "/console/signing-keys/rotate", null, Everyone(400)),

        // The console's directory pages (DirectoryPages.cs): the same gate as the users pages.
        Get("/console/tenants/{tenantId}/ous", w => $"/console/tenants/{w.T}/ous", Everyone(302)),
        Post("/console/tenants/{tenantId}/ous", w => $"/console/tenants/{w.T}/ous", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/ous/{ouId}", w => $"/console/tenants/{w.T}/ous/{w.X}", Everyone(302)),
        Post("/console/tenants/{tenantId}/ous/{ouId}/rename", w => $"/console/tenants/{w.T}/ous/{w.X}/rename", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/ous/{ouId}/move", w => $"/console/tenants/{w.T}/ous/{w.X}/move", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/ous/{ouId}/confirm-delete", w => $"/console/tenants/{w.T}/ous/{w.X}/confirm-delete", Everyone(302)),
        Post("/console/tenants/{tenantId}/ous/{ouId}/delete", w => $"/console/tenants/{w.T}/ous/{w.X}/delete", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/groups", w => $"/console/tenants/{w.T}/groups", Everyone(302)),
        Post("/console/tenants/{tenantId}/groups", w => $"/console/tenants/{w.T}/groups", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/groups/{groupId}", w => $"/console/tenants/{w.T}/groups/{w.X}", Everyone(302)),
        Get("/console/tenants/{tenantId}/groups/{groupId}/confirm-delete", w => $"/console/tenants/{w.T}/groups/{w.X}/confirm-delete", Everyone(302)),
        Get("/console/tenants/{tenantId}/groups/{groupId}/members/{userId}/confirm-remove", w => $"/console/tenants/{w.T}/groups/{w.X}/members/{w.X}/confirm-remove", Everyone(302)),
        Get("/console/tenants/{tenantId}/groups/{groupId}/nested/{childId}/confirm-remove", w => $"/console/tenants/{w.T}/groups/{w.X}/nested/{w.X}/confirm-remove", Everyone(302)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/rename", w => $"/console/tenants/{w.T}/groups/{w.X}/rename", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/members", w => $"/console/tenants/{w.T}/groups/{w.X}/members", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/members/{userId}/remove", w => $"/console/tenants/{w.T}/groups/{w.X}/members/{w.X}/remove", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/nested", w => $"/console/tenants/{w.T}/groups/{w.X}/nested", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/nested/{childId}/remove", w => $"/console/tenants/{w.T}/groups/{w.X}/nested/{w.X}/remove", null, Everyone(400)),
        Post("/console/tenants/{tenantId}/groups/{groupId}/delete", w => $"/console/tenants/{w.T}/groups/{w.X}/delete", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/roles", w => $"/console/tenants/{w.T}/roles", Everyone(302)),
        Post("/console/tenants/{tenantId}/roles", w => $"/console/tenants/{w.T}/roles", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/roles/{assignmentId}/confirm-revoke", w => $"/console/tenants/{w.T}/roles/{w.X}/confirm-revoke", Everyone(302)),
        Post("/console/tenants/{tenantId}/roles/{assignmentId}/revoke", w => $"/console/tenants/{w.T}/roles/{w.X}/revoke", null, Everyone(400)),
        Get("/console/tenants/{tenantId}/audit", w => $"/console/tenants/{w.T}/audit", Everyone(302)),

        // Sign-in: OAuth endpoints answer by OAuth rules whoever calls; hosted pages need no token (unknown tenant: 404).
        Get("/connect/authorize", _ => "/connect/authorize", Everyone(400)),
        Post("/connect/authorize", _ => "/connect/authorize", null, Everyone(400)),
        Get("/connect/logout", _ => "/connect/logout", Everyone(200)),
        Post("/connect/logout", _ => "/connect/logout", null, Everyone(400)),
        Get("/connect/userinfo", _ => "/connect/userinfo", Everyone(401)) with { UserToken = 200 },
        Post("/connect/userinfo", _ => "/connect/userinfo", null, Everyone(400)),
        Get("/t/{slug}/login", _ => "/t/no-such-tenant/login", Everyone(404)),
        Post("/t/{slug}/login", _ => "/t/no-such-tenant/login", null, Everyone(404)),
        Get("/t/{slug}/change-password", _ => "/t/no-such-tenant/change-password", Everyone(404)),
        Post("/t/{slug}/change-password", _ => "/t/no-such-tenant/change-password", null, Everyone(404)),
        Get("/t/{slug}/reset-password", _ => "/t/no-such-tenant/reset-password", Everyone(404)),
        Post("/t/{slug}/reset-password", _ => "/t/no-such-tenant/reset-password", null, Everyone(404)),
        Get("/t/{slug}/accept-invitation", _ => "/t/no-such-tenant/accept-invitation", Everyone(404)),
        Post("/t/{slug}/accept-invitation", _ => "/t/no-such-tenant/accept-invitation", null, Everyone(404)),
        Get("/t/{slug}/consent", _ => "/t/no-such-tenant/consent", Everyone(404)),
        Post("/t/{slug}/consent", _ => "/t/no-such-tenant/consent", null, Everyone(404)),
        Get("/t/{slug}/forgot-password", _ => "/t/no-such-tenant/forgot-password", Everyone(404)),
        Post("/t/{slug}/forgot-password", _ => "/t/no-such-tenant/forgot-password", null, Everyone(404)),
        Get("/t/{slug}/verify-email", _ => "/t/no-such-tenant/verify-email", Everyone(404)),
        Post("/t/{slug}/verify-email", _ => "/t/no-such-tenant/verify-email", null, Everyone(404)),
        Get("/t/{slug}/federation/link", _ => "/t/no-such-tenant/federation/link", Everyone(404)),
        Post("/t/{slug}/federation/link", _ => "/t/no-such-tenant/federation/link", null, Everyone(404)),
        Get("/t/{slug}/federation/{provider_id}/oidc/start", _ => "/t/no-such-tenant/federation/no-such-provider/oidc/start", Everyone(404)),

        // Federation protocol endpoints name the provider, whoever calls (an unknown provider: 404 page).
        Get("/federation/{provider_id}/oidc/callback", _ => "/federation/no-such-provider/oidc/callback", Everyone(404)),
        Get("/t/{slug}/account", _ => "/t/no-such-tenant/account", Everyone(404)),
        Post("/t/{slug}/account/password", _ => "/t/no-such-tenant/account/password", null, Everyone(404)),
        Post("/t/{slug}/account/totp", _ => "/t/no-such-tenant/account/totp", null, Everyone(404)),
        Post("/t/{slug}/account/totp/confirm", _ => "/t/no-such-tenant/account/totp/confirm", null, Everyone(404)),
        Post("/t/{slug}/account/recovery-codes", _ => "/t/no-such-tenant/account/recovery-codes", null, Everyone(404)),
        Post("/t/{slug}/account/factors/remove", _ => "/t/no-such-tenant/account/factors/remove", null, Everyone(404)),
        Post("/t/{slug}/account/sessions/end", _ => "/t/no-such-tenant/account/sessions/end", null, Everyone(404)),

        // The signed-in user's own account: only a user's account-scope token of a first-party application.
        Get("/api/v1/me", _ => "/api/v1/me", AccountOnly()) with { Account = 200 },
        Post("/api/v1/me/password", _ => "/api/v1/me/password", "{}", AccountOnly()) with { Account = 422 },
        Get("/api/v1/me/mfa/factors", _ => "/api/v1/me/mfa/factors", AccountOnly()) with { Account = 200 },
        Post("/api/v1/me/mfa/totp", _ => "/api/v1/me/mfa/totp", BadName, AccountOnly()) with { Account = 422 },
        Post("/api/v1/me/mfa/totp/{factor_id}/confirm", _ => $"/api/v1/me/mfa/totp/{None}/confirm", """{"code": "123456"}""", AccountOnly()) with { Account = 404 },
        Post("/api/v1/me/mfa/recovery-codes", _ => "/api/v1/me/mfa/recovery-codes", null, AccountOnly()) with { Account = 409 },
        Delete("/api/v1/me/mfa/factors/{factor_id}", _ => $"/api/v1/me/mfa/factors/{None}", AccountOnly()) with { Account = 404 },
        Get("/api/v1/me/sessions", _ => "/api/v1/me/sessions", AccountOnly()) with { Account = 200 },
        Delete("/api/v1/me/sessions/{session_id}", _ => $"/api/v1/me/sessions/{None}", AccountOnly()) with { Account = 404 },
        Get("/t/{slug}/account/passkeys", _ => "/t/no-such-tenant/account/passkeys", Everyone(404)),
        Post("/t/{slug}/account/passkeys", _ => "/t/no-such-tenant/account/passkeys", null, Everyone(404)),
        Post("/t/{slug}/passkeys/registration-options", _ => "/t/no-such-tenant/passkeys/registration-options", null, Everyone(404)),
        Post("/t/{slug}/passkeys/assertion-options", _ => "/t/no-such-tenant/passkeys/assertion-options", null, Everyone(404)),
        Post("/t/{slug}/passkeys/sign-in", _ => "/t/no-such-tenant/passkeys/sign-in", null, Everyone(404)),
        Get("/t/{slug}/mfa", _ => "/t/no-such-tenant/mfa", Everyone(404)),
        Post("/t/{slug}/mfa", _ => "/t/no-such-tenant/mfa", null, Everyone(404)),
        Get("/t/{slug}/mfa/enroll", _ => "/t/no-such-tenant/mfa/enroll", Everyone(404)),
        Post("/t/{slug}/mfa/enroll", _ => "/t/no-such-tenant/mfa/enroll", null, Everyone(404)),
        Post("/t/{slug}/mfa/enroll/done", _ => "/t/no-such-tenant/mfa/enroll/done", null, Everyone(404)),
        Post("/t/{slug}/mfa/passkey-options", _ => "/t/no-such-tenant/mfa/passkey-options", null, Everyone(404)),
        Post("/t/{slug}/mfa/passkey", _ => "/t/no-such-tenant/mfa/passkey", null, Everyone(404)),

        // SAML service provider (Federation/Saml): anonymous protocol routes; an unknown provider or tenant is 404.
        Get("/federation/{provider_id}/saml/metadata", _ => $"/federation/{None}/saml/metadata", Everyone(404)),
        Post("/federation/{provider_id}/saml/acs", _ => $"/federation/{None}/saml/acs", null, Everyone(404)),
        Get("/federation/{provider_id}/saml/complete", _ => $"/federation/{None}/saml/complete", Everyone(404)),
        Get("/t/{slug}/federation/{provider_id}/saml/start", _ => $"/t/no-such-tenant/federation/{None}/saml/start", Everyone(404)),

        // Partners: platform admins only.
        Post("/api/v1/admin/partners", _ => "/api/v1/admin/partners", "{}", PlatformOnly(422)),
        Get("/api/v1/admin/partners", _ => "/api/v1/admin/partners", PlatformOnly(200)),
        Get("/api/v1/admin/partners/{partner_id}", w => $"/api/v1/admin/partners/{w.P}", PlatformOnly(200)),
        Patch("/api/v1/admin/partners/{partner_id}", w => $"/api/v1/admin/partners/{w.P}", _ => BadName, PlatformOnly(422)),
        Delete("/api/v1/admin/partners/{partner_id}", _ => $"/api/v1/admin/partners/{None}", PlatformOnly(404)),

        // Tenants: platform admins, and partner admins for their partners' tenants.
        Post("/api/v1/admin/tenants", _ => "/api/v1/admin/tenants", "{}", AdminScoped(422, 422)),
        Get("/api/v1/admin/tenants", _ => "/api/v1/admin/tenants", AdminScoped(200, 200)),
        Get("/api/v1/admin/tenants/{tenant_id}", w => $"/api/v1/admin/tenants/{w.T}", AdminScoped(200, 404)),
        Patch("/api/v1/admin/tenants/{tenant_id}", w => $"/api/v1/admin/tenants/{w.T}", w => $$"""{"name": "{{w.TName}}"}""", AdminScoped(200, 404)),
        Delete("/api/v1/admin/tenants/{tenant_id}", _ => $"/api/v1/admin/tenants/{None}", AdminScoped(404, 404)),

        // Organizational units.
        Post("/api/v1/tenants/{tenant_id}/ous", w => $"/api/v1/tenants/{w.T}/ous", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/ous", w => $"/api/v1/tenants/{w.T}/ous", TenantRead(200)),
        Get("/api/v1/tenants/{tenant_id}/ous/{ou_id}", w => $"/api/v1/tenants/{w.T}/ous/{w.O}", TenantRead(200)),
        Patch("/api/v1/tenants/{tenant_id}/ous/{ou_id}", w => $"/api/v1/tenants/{w.T}/ous/{w.O}", _ => BadName, TenantAdmin(422)),
        Delete("/api/v1/tenants/{tenant_id}/ous/{ou_id}", w => $"/api/v1/tenants/{w.T}/ous/{None}", TenantAdmin(404)),

        // Groups and members.
        Post("/api/v1/tenants/{tenant_id}/groups", w => $"/api/v1/tenants/{w.T}/groups", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/groups", w => $"/api/v1/tenants/{w.T}/groups", TenantRead(200)),
        Get("/api/v1/tenants/{tenant_id}/groups/{group_id}", w => $"/api/v1/tenants/{w.T}/groups/{w.G}", TenantRead(200)),
        Patch("/api/v1/tenants/{tenant_id}/groups/{group_id}", w => $"/api/v1/tenants/{w.T}/groups/{w.G}", _ => BadName, TenantAdmin(422)),
        Delete("/api/v1/tenants/{tenant_id}/groups/{group_id}", w => $"/api/v1/tenants/{w.T}/groups/{None}", TenantAdmin(404)),
        Post("/api/v1/tenants/{tenant_id}/groups/{group_id}/members", w => $"/api/v1/tenants/{w.T}/groups/{w.G}/members", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/groups/{group_id}/members", w => $"/api/v1/tenants/{w.T}/groups/{w.G}/members", TenantRead(200)),
        Delete("/api/v1/tenants/{tenant_id}/groups/{group_id}/members/{user_id}", w => $"/api/v1/tenants/{w.T}/groups/{w.G}/members/{None}", TenantAdmin(404)),

        // The tenant directory. Applications may read one user, and only one assigned to them.
        Get("/api/v1/tenants/{tenant_id}/users", w => $"/api/v1/tenants/{w.T}/users", TenantRead(200)),
        Post("/api/v1/tenants/{tenant_id}/users", w => $"/api/v1/tenants/{w.T}/users", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/users/{user_id}", w => $"/api/v1/tenants/{w.T}/users/{w.X}", [401, 200, 200, 403, 200, 403, 200, 200, 200, 404]),
        Patch("/api/v1/tenants/{tenant_id}/users/{user_id}", w => $"/api/v1/tenants/{w.T}/users/{w.X}", _ => """{"email": 5}""", TenantAdmin(422)),
        Delete("/api/v1/tenants/{tenant_id}/users/{user_id}", w => $"/api/v1/tenants/{w.T}/users/{w.X}?confirm_email=someone-else%40example.com", TenantAdmin(422)),
        Post("/api/v1/tenants/{tenant_id}/users/{user_id}/password/reset", w => $"/api/v1/tenants/{w.T}/users/{w.X}/password/reset", """{"method": "BOGUS"}""", TenantSupport(422)),
        Post("/api/v1/tenants/{tenant_id}/users/{user_id}/invitation", w => $"/api/v1/tenants/{w.T}/users/{None}/invitation", null, TenantSupport(404)),
        Put("/api/v1/tenants/{tenant_id}/users/{user_id}/status", w => $"/api/v1/tenants/{w.T}/users/{w.X}/status", """{"status": "PENDING_APPROVAL"}""", TenantSupport(422)),
        Post("/api/v1/tenants/{tenant_id}/users/{user_id}/mfa/disable", w => $"/api/v1/tenants/{w.T}/users/{None}/mfa/disable", null, TenantSupport(404)),
        Post("/api/v1/tenants/{tenant_id}/users/{user_id}/unlock", w => $"/api/v1/tenants/{w.T}/users/{None}/unlock", null, TenantSupport(404)),
        Get("/api/v1/tenants/{tenant_id}/my-permissions", w => $"/api/v1/tenants/{w.T}/my-permissions", TenantRead(200)),

        // Federated identities of a user.
        Post("/api/v1/tenants/{tenant_id}/users/{user_id}/federated-identities", w => $"/api/v1/tenants/{w.T}/users/{w.X}/federated-identities", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/users/{user_id}/federated-identities", w => $"/api/v1/tenants/{w.T}/users/{w.X}/federated-identities", TenantRead(200)),
        Delete("/api/v1/tenants/{tenant_id}/users/{user_id}/federated-identities/{federated_identity_id}", w => $"/api/v1/tenants/{w.T}/users/{w.X}/federated-identities/{None}", TenantAdmin(404)),

        // Consents a user gave on the consent page: read with the directory, revoked by those who may change users.
        Get("/api/v1/tenants/{tenant_id}/users/{user_id}/consents", w => $"/api/v1/tenants/{w.T}/users/{w.X}/consents", TenantRead(200)),
        Delete("/api/v1/tenants/{tenant_id}/users/{user_id}/consents/{consent_id}", w => $"/api/v1/tenants/{w.T}/users/{w.X}/consents/{None}", TenantAdmin(404)),

        // Applications.
        Post("/api/v1/tenants/{tenant_id}/applications", w => $"/api/v1/tenants/{w.T}/applications", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/applications", w => $"/api/v1/tenants/{w.T}/applications", TenantRead(200)),
        Get("/api/v1/tenants/{tenant_id}/applications/{application_id}", w => $"/api/v1/tenants/{w.T}/applications/{w.A}", TenantRead(200)),
        Patch("/api/v1/tenants/{tenant_id}/applications/{application_id}", w => $"/api/v1/tenants/{w.T}/applications/{w.A}", _ => BadName, TenantAdmin(422)),
        Delete("/api/v1/tenants/{tenant_id}/applications/{application_id}", w => $"/api/v1/tenants/{w.T}/applications/{None}", TenantAdmin(404)),
        Post("/api/v1/tenants/{tenant_id}/applications/{application_id}/secret", w => $"/api/v1/tenants/{w.T}/applications/{None}/secret", null, TenantAdmin(404)),
        Post("/api/v1/tenants/{tenant_id}/applications/{application_id}/assignments", w => $"/api/v1/tenants/{w.T}/applications/{w.A}/assignments", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/applications/{application_id}/assignments", w => $"/api/v1/tenants/{w.T}/applications/{w.A}/assignments", TenantRead(200)),
        Delete("/api/v1/tenants/{tenant_id}/applications/{application_id}/assignments/{assignment_id}", w => $"/api/v1/tenants/{w.T}/applications/{w.A}/assignments/{None}", TenantAdmin(404)),
        Get("/api/v1/tenants/{tenant_id}/applications/{application_id}/effective-users", w => $"/api/v1/tenants/{w.T}/applications/{w.A}/effective-users", TenantRead(200)),

        // Identity providers.
        Post("/api/v1/tenants/{tenant_id}/identity-providers", w => $"/api/v1/tenants/{w.T}/identity-providers", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/identity-providers", w => $"/api/v1/tenants/{w.T}/identity-providers", TenantRead(200)),
        Get("/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}", w => $"/api/v1/tenants/{w.T}/identity-providers/{w.I}", TenantRead(200)),
        Patch("/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}", w => $"/api/v1/tenants/{w.T}/identity-providers/{w.I}", _ => BadName, TenantAdmin(422)),
        Delete("/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}", w => $"/api/v1/tenants/{w.T}/identity-providers/{None}", TenantAdmin(404)),
        // An LDAP provider's directory sync: started by directory writers (409 here: the matrix's provider is OIDC), read by readers.
        Post("/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}/sync", w => $"/api/v1/tenants/{w.T}/identity-providers/{w.I}/sync", null, TenantAdmin(409)),
        Get("/api/v1/tenants/{tenant_id}/identity-providers/{identity_provider_id}/sync-jobs/{job_id}", w => $"/api/v1/tenants/{w.T}/identity-providers/{w.I}/sync-jobs/{None}", TenantRead(404)),

        // SCIM provisioning tokens: tenant admins and above (a token can change every user of the tenant).
        Post("/api/v1/tenants/{tenant_id}/scim/tokens", w => $"/api/v1/tenants/{w.T}/scim/tokens", "{}", TenantAdmin(422)),
        Get("/api/v1/tenants/{tenant_id}/scim/tokens", w => $"/api/v1/tenants/{w.T}/scim/tokens", TenantAdmin(200)),
        Delete("/api/v1/tenants/{tenant_id}/scim/tokens/{token_id}", w => $"/api/v1/tenants/{w.T}/scim/tokens/{None}", TenantAdmin(404)),

        // /scim/v2 takes SCIM provisioning tokens only (ScimAuthenticationTests): every other caller is 401.
        Get("/scim/v2/ServiceProviderConfig", _ => "/scim/v2/ServiceProviderConfig", Everyone(401)),
        Get("/scim/v2/ResourceTypes", _ => "/scim/v2/ResourceTypes", Everyone(401)),
        Get("/scim/v2/ResourceTypes/{name}", _ => "/scim/v2/ResourceTypes/User", Everyone(401)),
        Get("/scim/v2/Schemas", _ => "/scim/v2/Schemas", Everyone(401)),
        Get("/scim/v2/Schemas/{id}", _ => "/scim/v2/Schemas/x", Everyone(401)),
        Get("/scim/v2/Users", _ => "/scim/v2/Users", Everyone(401)),
        Post("/scim/v2/Users", _ => "/scim/v2/Users", "{}", Everyone(401)),
        Post("/scim/v2/Users/.search", _ => "/scim/v2/Users/.search", "{}", Everyone(401)),
        Get("/scim/v2/Users/{id}", _ => $"/scim/v2/Users/{None}", Everyone(401)),
        Put("/scim/v2/Users/{id}", _ => $"/scim/v2/Users/{None}", "{}", Everyone(401)),
        Patch("/scim/v2/Users/{id}", _ => $"/scim/v2/Users/{None}", _ => "{}", Everyone(401)),
        Delete("/scim/v2/Users/{id}", _ => $"/scim/v2/Users/{None}", Everyone(401)),
        Get("/scim/v2/Groups", _ => "/scim/v2/Groups", Everyone(401)),
        Post("/scim/v2/Groups", _ => "/scim/v2/Groups", "{}", Everyone(401)),
        Post("/scim/v2/Groups/.search", _ => "/scim/v2/Groups/.search", "{}", Everyone(401)),
        Get("/scim/v2/Groups/{id}", _ => $"/scim/v2/Groups/{None}", Everyone(401)),
        Put("/scim/v2/Groups/{id}", _ => $"/scim/v2/Groups/{None}", "{}", Everyone(401)),
        Patch("/scim/v2/Groups/{id}", _ => $"/scim/v2/Groups/{None}", _ => "{}", Everyone(401)),
        Delete("/scim/v2/Groups/{id}", _ => $"/scim/v2/Groups/{None}", Everyone(401)),
        Post("/scim/v2/Bulk", _ => "/scim/v2/Bulk", "{}", Everyone(401)),

        // Tenant audit trail: admins only.
        Get("/api/v1/tenants/{tenant_id}/audit-events", w => $"/api/v1/tenants/{w.T}/audit-events", TenantAdmin(200)),

        // Cross-tenant user administration: platform admins, partner admins within their partners.
        Get("/api/v1/admin/users/", _ => "/api/v1/admin/users/", AdminScoped(200, 200)),
        Post("/api/v1/admin/users/", _ => "/api/v1/admin/users/", "{}", AdminScoped(422, 422)),
        Get("/api/v1/admin/users/identity-source/mismatches", _ => "/api/v1/admin/users/identity-source/mismatches", AdminScoped(200, 200)),
        Get("/api/v1/admin/users/{user_id}", w => $"/api/v1/admin/users/{w.X}", AdminScoped(200, 404)),
        Patch("/api/v1/admin/users/{user_id}", w => $"/api/v1/admin/users/{w.X}", _ => "{}", AdminScoped(412, 404), ifMatch: Stale),
        Delete("/api/v1/admin/users/{user_id}", w => $"/api/v1/admin/users/{w.X}", AdminScoped(412, 404), ifMatch: Stale),
        Get("/api/v1/admin/users/{user_id}/groups", w => $"/api/v1/admin/users/{w.X}/groups", AdminScoped(200, 404)),
        Post("/api/v1/admin/users/{user_id}/invitation", _ => $"/api/v1/admin/users/{None}/invitation", null, AdminScoped(404, 404)),
        Post("/api/v1/admin/users/{user_id}/mfa/disable", w => $"/api/v1/admin/users/{w.X}/mfa/disable", null, AdminScoped(200, 404)),
        Post("/api/v1/admin/users/{user_id}/reset-password", w => $"/api/v1/admin/users/{w.X}/reset-password", "{}", AdminScoped(422, 422)),
        Post("/api/v1/admin/users/{user_id}/unlock", w => $"/api/v1/admin/users/{w.X}/unlock", null, AdminScoped(200, 404)),

        // Roles and admin clients.
        Post("/api/v1/admin/role-assignments", _ => "/api/v1/admin/role-assignments", "{}", AdminScoped(422, 422)),
        Get("/api/v1/admin/role-assignments", _ => "/api/v1/admin/role-assignments", AdminScoped(200, 200)),
        Get("/api/v1/admin/role-assignments/{assignment_id}", w => $"/api/v1/admin/role-assignments/{w.R}", AdminScoped(200, 404)),
        Delete("/api/v1/admin/role-assignments/{assignment_id}", _ => $"/api/v1/admin/role-assignments/{None}", AdminScoped(404, 404)),
        Post("/api/v1/admin/clients", _ => "/api/v1/admin/clients", "{}", AdminScoped(422, 422)),
        Get("/api/v1/admin/clients", _ => "/api/v1/admin/clients", AdminScoped(200, 200)),
        Get("/api/v1/admin/clients/{id}", w => $"/api/v1/admin/clients/{w.C}", AdminScoped(200, 404)),
        Post("/api/v1/admin/clients/{id}/secret", _ => $"/api/v1/admin/clients/{None}/secret", null, AdminScoped(404, 404)),
        Delete("/api/v1/admin/clients/{id}", _ => $"/api/v1/admin/clients/{None}", AdminScoped(404, 404)),

        // The whole audit trail: platform admins only.
        Get("/api/v1/admin/audit-events", _ => "/api/v1/admin/audit-events", PlatformOnly(200)),

        // Token keys: platform admins only. A rotation does change the world, harmlessly: earlier tokens stay valid.
        Get("/api/v1/admin/signing-keys", _ => "/api/v1/admin/signing-keys", PlatformOnly(200)),
        Get("/api/v1/admin/signing-keys/{kid}", _ => $"/api/v1/admin/signing-keys/{None}", PlatformOnly(404)),
        Post("/api/v1/admin/signing-keys/rotate", _ => "/api/v1/admin/signing-keys/rotate", null, PlatformOnly(201)),
    ];

    [Fact]
    public void Every_route_of_the_app_has_exactly_one_row()
    {
        var routes = AppRoutes();
        var rows = Table.Select(r => Normalize(r.Route)).ToList();
        Assert.Equal(rows.Count, rows.Distinct(StringComparer.Ordinal).Count());
        var missing = routes.Except(rows, StringComparer.Ordinal).ToList();
        var stale = rows.Except(routes, StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0 && stale.Count == 0,
            "routes without a row:\n  " + string.Join("\n  ", missing) + "\nrows without a route:\n  " + string.Join("\n  ", stale));
        Assert.All(Table, r => Assert.Equal(Callers.Length, Expected(r).Length));
    }

    [Fact]
    public async Task Every_caller_gets_the_expected_status_on_every_route()
    {
        var (world, callers) = await BuildWorldAsync();
        var failures = new List<string>();
        foreach (var row in Table)
        {
            var expected = Expected(row);
            for (var i = 0; i < Callers.Length; i++)
            {
                using var request = row.Request(world);
                using var response = await callers[i].SendAsync(request);
                if ((int)response.StatusCode != expected[i])
                {
                    var body = await response.Content.ReadAsStringAsync();
                    failures.Add($"{row.Route} as {Callers[i]}: expected {expected[i]}, got {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
                }
            }
        }

        output.WriteLine($"authorization matrix: {Table.Length} routes x {Callers.Length} callers = {Table.Length * Callers.Length} requests");
        Assert.True(failures.Count == 0, $"{failures.Count} of {Table.Length * Callers.Length} cells differ:\n" + string.Join("\n", failures));
    }

    // A group's "" and "/" children both show a trailing slash in RawText; the table writes neither.
    private static string Normalize(string route) => route.TrimEnd('/');

    private List<string> AppRoutes() =>
        app.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => Normalize($"{m} /{e.RoutePattern.RawText!.TrimStart('/')}")))
            .Distinct(StringComparer.Ordinal)
            .ToList();

    private async Task<(World World, HttpClient[] Callers)> BuildWorldAsync()
    {
        using var admin = await app.AdminAsync();
        var p = await app.CreateAsync("/api/v1/admin/partners", new { name = "Matrix partner" });
        var q = await app.CreateAsync("/api/v1/admin/partners", new { name = "Other partner" });
        const string tenantName = "Matrix tenant";
        var t = await app.CreateTenantAsync(tenantName, partnerId: p);
        var u = await app.CreateTenantAsync("Other tenant", partnerId: q);
        var xEmail = "assigned@example.com";
        var x = await app.CreateUserIdAsync(t, xEmail);
        var g = await app.CreateAsync($"/api/v1/tenants/{t}/groups", new { name = "Matrix group" });
        var o = await app.CreateAsync($"/api/v1/tenants/{t}/ous", new { name = "Matrix OU" });

        async Task<(string Id, string ClientId, string Secret)> ServiceAppAsync(string name)
        {
            var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{t}/applications", new { name, type = "SERVICE" })).ReadJsonAsync(201);
            var data = created["data"]!;
            return (data["id"]!.GetValue<string>(), data["client_id"]!.GetValue<string>(), data["client_secret"]!.GetValue<string>());
        }

        var (a, aClient, aSecret) = await ServiceAppAsync("Assigned app");
        var (_, bClient, bSecret) = await ServiceAppAsync("Unassigned app");
        var assignment = await app.CreateAsync($"/api/v1/tenants/{t}/applications/{a}/assignments", new { user_id = x });
        var i = await app.CreateAsync($"/api/v1/tenants/{t}/identity-providers",
            new { name = "Matrix IdP", type = "OIDC", config = new { issuer = "https://idp.example.com", client_id = "scaikey" } });
        var f = await app.CreateAsync($"/api/v1/tenants/{t}/users/{x}/federated-identities", new { identity_provider_id = i, subject = "matrix-subject" });
        var (c, _, _) = await app.CreateAdminClientAsync(p);
        var (_, viewerClient, _) = await app.CreateAdminClientAsync(p);
        var r = await app.CreateAsync("/api/v1/admin/role-assignments",
            new { principal_type = "CLIENT", principal_id = viewerClient, role = "TENANT_VIEWER", tenant_id = t });

        // Admins who are users of the tenant, with a token from one of its applications (the password grant)...
        var webApp = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{t}/applications",
            new { name = "Matrix web app", type = "WEB", redirect_uris = new[] { "https://app.example.net/cb" }, grant_types = new[] { "authorization_code", "password" } })).ReadJsonAsync(201))["data"]!;
        async Task<HttpClient> AppUserAsync(string role, string? partnerId, string? tenantId)
        {
            var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@example.com";
            var userId = await app.CreateUserIdAsync(t, email, UserPassword);
            await (await admin.PostAsJsonAsync("/api/v1/admin/role-assignments",
                new { principal_type = "USER", principal_id = userId, role, partner_id = partnerId, tenant_id = tenantId })).ShouldBeAsync(201);
            var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = UserPassword, ["scope"] = "openid email profile",
                ["client_id"] = webApp["client_id"]!.GetValue<string>(), ["client_secret"] = webApp["client_secret"]!.GetValue<string>(),
            });
            var tokens = await (await app.Anonymous().PostAsync("/connect/token", form)).ReadJsonAsync(200);
            return app.WithToken(tokens["access_token"]!.GetValue<string>());
        }

        // A plain user of the tenant with an account token of a first-party application (the account API's caller).
        var portal = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{t}/applications",
            new { name = "Matrix portal", type = "WEB", redirect_uris = new[] { "https://portal.example.net/cb" }, grant_types = new[] { "authorization_code", "password" }, first_party = true })).ReadJsonAsync(201))["data"]!;
        async Task<HttpClient> AccountUserAsync()
        {
            var email = $"self-{Guid.NewGuid():N}@example.com";
            await app.CreateUserIdAsync(t, email, UserPassword);
            var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = UserPassword, ["scope"] = "openid account",
                ["client_id"] = portal["client_id"]!.GetValue<string>(), ["client_secret"] = portal["client_secret"]!.GetValue<string>(),
            });
            var tokens = await (await app.Anonymous().PostAsync("/connect/token", form)).ReadJsonAsync(200);
            return app.WithToken(tokens["access_token"]!.GetValue<string>());
        }

        // ...and admins who signed in through the console client.
        var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{t}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();

        HttpClient[] callers =
        [
            app.Anonymous(),
            await app.AdminAsync(),
            await app.ClientWithRolesAsync(("PARTNER_ADMIN", p, null)),
            await app.ClientWithRolesAsync(("PARTNER_ADMIN", q, null)),
            await app.ClientWithRolesAsync(("TENANT_ADMIN", null, t)),
            await app.ClientWithRolesAsync(("TENANT_ADMIN", null, u)),
            await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, t)),
            await app.ClientWithRolesAsync(("TENANT_VIEWER", null, t)),
            app.WithToken(await app.GetTokenAsync(aClient, aSecret)),
            app.WithToken(await app.GetTokenAsync(bClient, bSecret)),
            await AppUserAsync("PLATFORM_ADMIN", null, null),
            await AppUserAsync("PARTNER_ADMIN", p, null),
            await AppUserAsync("TENANT_ADMIN", null, t),
            (await ConsoleSignIn.AdminUserAsync(app, t, slug, ("PLATFORM_ADMIN", null, null))).Client,
            (await ConsoleSignIn.AdminUserAsync(app, t, slug, ("TENANT_ADMIN", null, t))).Client,
            await AccountUserAsync(),
        ];
        return (new World(p, t, tenantName, x, xEmail, g, o, a, assignment, i, f, r, c), callers);
    }
}
