using Microsoft.EntityFrameworkCore;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Tests;

/// <summary>GET /api/v1/admin/users/identity-source/mismatches: users whose identity_source disagrees with their links.</summary>
public sealed class IdentitySourceMismatchTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Path = "/api/v1/admin/users/identity-source/mismatches";

    // A SAML provider is registered with its IdP's signing certificate.
    private static readonly string IdpCertificate =
        Infrastructure.SamlIdpFixture.SelfSigned(System.Security.Cryptography.RSA.Create(2048), "CN=idp").ExportCertificatePem();

    private static string Unique(string prefix) => prefix + " " + Guid.NewGuid().ToString("N")[..8];

    private static List<string> UserIds(JsonNode report) => report["data"]!.AsArray().Select(r => r!["user_id"]!.GetValue<string>()).ToList();

    private async Task<string> ProviderAsync(string tenant, string type)
    {
        object config = type switch
        {
            "OIDC" => new { issuer = "https://id.example.com", client_id = "scaikey" },
            "SAML" => new { entity_id = "urn:example:idp", sso_url = "https://idp.example.com/sso", idp_certificate = IdpCertificate },
            _ => new { url = "ldaps://ldap.example.com", base_dn = "dc=example,dc=com" },
        };
        return await app.CreateAsync($"/api/v1/tenants/{tenant}/identity-providers", new { name = Unique(type), type, config });
    }

    private async Task LinkAsync(string tenant, string user, string provider)
    {
        using var admin = await app.AdminAsync();
        await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/federated-identities",
            new { identity_provider_id = provider, subject = "sub-" + Guid.NewGuid().ToString("N") })).ShouldBeAsync(201);
    }

    private Task SetIdentitySourceAsync(string user, IdentitySource source) =>
        app.DbAsync(db => db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s.SetProperty(u => u.IdentitySource, source)));

    private Task<IdentitySource> IdentitySourceOfAsync(string user) =>
        app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == user).Select(u => u.IdentitySource).SingleAsync());

    private async Task<JsonNode> ReportAsync(HttpClient client, string query = "") =>
        await (await client.GetAsync(Path + query)).ReadJsonAsync(200);

    [Fact]
    public async Task A_local_user_linked_to_an_oidc_provider_is_reported_and_nothing_changes_without_fix()
    {
        var tenant = await app.CreateTenantAsync();
        var oidc = await ProviderAsync(tenant, "OIDC");
        var email = $"Drift.{Guid.NewGuid():N}@example.com";
        var drifted = await app.CreateUserIdAsync(tenant, email);
        var consistent = await app.CreateUserIdAsync(tenant);
        var unlinked = await app.CreateUserIdAsync(tenant);
        await LinkAsync(tenant, drifted, oidc);
        await LinkAsync(tenant, consistent, oidc);
        await SetIdentitySourceAsync(consistent, IdentitySource.Oidc);
        using var admin = await app.AdminAsync();

        var report = await ReportAsync(admin, $"?tenant_id={tenant}");
        Assert.Equal([drifted], UserIds(report));
        var row = report["data"]![0]!;
        Assert.Equal(tenant, row["tenant_id"]!.GetValue<string>());
        Assert.Equal(email, row["email"]!.GetValue<string>());
        Assert.Equal("LOCAL", row["identity_source"]!.GetValue<string>());
        Assert.Equal("OIDC", row["expected_identity_source"]!.GetValue<string>());
        Assert.Equal(oidc, row["identity_provider_id"]!.GetValue<string>());
        Assert.Equal("OIDC", row["identity_provider_type"]!.GetValue<string>());
        Assert.Equal(["OIDC"], row["linked_identity_provider_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(0, report["fixed"]!.GetValue<int>());
        Assert.NotNull(report["meta"]!["request_id"]);
        Assert.Null(report["pagination"]);

        Assert.Equal(0, (await ReportAsync(admin, $"?tenant_id={tenant}&fix=false"))["fixed"]!.GetValue<int>());
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(drifted));
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(unlinked));
        Assert.Equal(0, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.identity_source_fixed" && e.TenantId == tenant)));

        // Without tenant_id a platform admin sees every tenant.
        Assert.Contains(drifted, UserIds(await ReportAsync(admin)));
    }

    [Fact]
    public async Task Fix_corrects_every_fixable_user_in_the_database_and_audits_each()
    {
        var tenant = await app.CreateTenantAsync();
        var ldap = await ProviderAsync(tenant, "LDAP");
        var saml = await ProviderAsync(tenant, "SAML");
        var toLdap = await app.CreateUserIdAsync(tenant, $"a.{Guid.NewGuid():N}@example.com");
        var toSaml = await app.CreateUserIdAsync(tenant, $"b.{Guid.NewGuid():N}@example.com");
        await LinkAsync(tenant, toLdap, ldap);
        await LinkAsync(tenant, toSaml, saml);
        await SetIdentitySourceAsync(toSaml, IdentitySource.Scim);
        var versionBefore = await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == toLdap).Select(u => u.Version).SingleAsync());
        using var admin = await app.AdminAsync();

        var report = await ReportAsync(admin, $"?tenant_id={tenant}&fix=true");
        Assert.Equal(2, report["fixed"]!.GetValue<int>());
        Assert.Equal([toLdap, toSaml], UserIds(report));

        // data shows what was found, before the fix.
        Assert.Equal(["LOCAL", "SCIM"], report["data"]!.AsArray().Select(r => r!["identity_source"]!.GetValue<string>()));
        Assert.Equal(["LDAP", "SAML"], report["data"]!.AsArray().Select(r => r!["expected_identity_source"]!.GetValue<string>()));

        Assert.Equal(IdentitySource.Ldap, await IdentitySourceOfAsync(toLdap));
        Assert.Equal(IdentitySource.Saml, await IdentitySourceOfAsync(toSaml));
        Assert.Equal(versionBefore + 1, await app.DbAsync(db => db.Users.AsNoTracking().Where(u => u.Id == toLdap).Select(u => u.Version).SingleAsync()));
        var got = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/users/{toLdap}")).ReadJsonAsync(200);
        Assert.Equal("LDAP", got["data"]!["identity_source"]!.GetValue<string>());

        var audit = await app.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.Action == "user.identity_source_fixed" && e.TenantId == tenant).ToListAsync());
        Assert.Equal(new[] { toLdap, toSaml }.Order(), audit.Select(e => e.TargetId).Order());
        Assert.All(audit, e => Assert.Equal("user", e.TargetType));
        Assert.All(audit, e => Assert.Equal("""["identity_source"]""", e.ChangesJson));
        Assert.All(audit, e => Assert.Equal(ScaiKeyApp.AdminClientId, e.ActorId));

        // Nothing is left to fix.
        var again = await ReportAsync(admin, $"?tenant_id={tenant}&fix=true");
        Assert.Empty(UserIds(again));
        Assert.Equal(0, again["fixed"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_user_linked_to_two_provider_types_is_reported_with_null_and_never_fixed()
    {
        var tenant = await app.CreateTenantAsync();
        var oidc = await ProviderAsync(tenant, "OIDC");
        var ldap = await ProviderAsync(tenant, "LDAP");
        var both = await app.CreateUserIdAsync(tenant, $"both.{Guid.NewGuid():N}@example.com");
        var fixable = await app.CreateUserIdAsync(tenant, $"fix.{Guid.NewGuid():N}@example.com");
        await LinkAsync(tenant, both, ldap);
        await LinkAsync(tenant, both, oidc);
        await LinkAsync(tenant, fixable, oidc);

        // Even when identity_source equals one of the types, the user is a conflict.
        var alsoBoth = await app.CreateUserIdAsync(tenant, $"conflict.{Guid.NewGuid():N}@example.com");
        await LinkAsync(tenant, alsoBoth, oidc);
        await LinkAsync(tenant, alsoBoth, ldap);
        await SetIdentitySourceAsync(alsoBoth, IdentitySource.Oidc);
        using var admin = await app.AdminAsync();

        var report = await ReportAsync(admin, $"?tenant_id={tenant}&fix=true");
        Assert.Equal([both, alsoBoth, fixable], UserIds(report));
        Assert.Equal(1, report["fixed"]!.GetValue<int>());
        var conflict = report["data"]![0]!;
        Assert.Null(conflict["expected_identity_source"]);
        Assert.Equal(ldap, conflict["identity_provider_id"]!.GetValue<string>()); // the oldest link
        Assert.Equal("LDAP", conflict["identity_provider_type"]!.GetValue<string>());
        Assert.Equal(["LDAP", "OIDC"], conflict["linked_identity_provider_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(oidc, report["data"]![1]!["identity_provider_id"]!.GetValue<string>());
        Assert.Null(report["data"]![1]!["expected_identity_source"]);

        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(both));
        Assert.Equal(IdentitySource.Oidc, await IdentitySourceOfAsync(alsoBoth));
        Assert.Equal(IdentitySource.Oidc, await IdentitySourceOfAsync(fixable));
        Assert.Equal(0, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.identity_source_fixed" && (e.TargetId == both || e.TargetId == alsoBoth))));

        // Still reported afterwards.
        Assert.Equal([both, alsoBoth], UserIds(await ReportAsync(admin, $"?tenant_id={tenant}&fix=true")));
    }

    [Fact]
    public async Task Rows_are_ordered_by_tenant_email_and_user_id()
    {
        var first = await app.CreateTenantAsync();
        var second = await app.CreateTenantAsync();
        var ids = new List<(string Tenant, string Email, string User)>();
        foreach (var tenant in new[] { first, second })
        {
            var provider = await ProviderAsync(tenant, "SAML");
            var tag = Guid.NewGuid().ToString("N")[..8];
            foreach (var email in new[] { $"Zed.{tag}@example.com", $"amy.{tag}@example.com", $"Mia.{tag}@example.com" })
            {
                var user = await app.CreateUserIdAsync(tenant, email);
                await LinkAsync(tenant, user, provider);
                ids.Add((tenant, email.ToLowerInvariant(), user));
            }
        }

        using var admin = await app.AdminAsync();
        var expected = ids.OrderBy(i => i.Tenant, StringComparer.Ordinal).ThenBy(i => i.Email, StringComparer.Ordinal).Select(i => i.User).ToList();
        var all = UserIds(await ReportAsync(admin));
        Assert.Equal(expected, all.Where(expected.Contains).ToList());
    }

    [Fact]
    public async Task Deleted_users_are_not_reported()
    {
        var tenant = await app.CreateTenantAsync();
        var oidc = await ProviderAsync(tenant, "OIDC");
        var email = $"gone.{Guid.NewGuid():N}@example.com";
        var deleted = await app.CreateUserIdAsync(tenant, email);
        var legacy = await app.CreateUserIdAsync(tenant);
        await LinkAsync(tenant, deleted, oidc);
        await LinkAsync(tenant, legacy, oidc);
        using var admin = await app.AdminAsync();
        await (await admin.DeleteAsync($"/api/v1/admin/users/{deleted}")).ShouldBeAsync(204);

        // A deleted user that still has a link (data from before links were removed on delete) is skipped too.
        await app.DbAsync(db => db.Users.Where(u => u.Id == legacy).ExecuteUpdateAsync(s => s.SetProperty(u => u.DeletedAt, DateTime.UtcNow)));
        Assert.Equal(1, await app.DbAsync(db => db.FederatedIdentities.CountAsync(f => f.UserId == legacy)));

        var report = await ReportAsync(admin, $"?tenant_id={tenant}&fix=true");
        Assert.Empty(UserIds(report));
        Assert.Equal(0, report["fixed"]!.GetValue<int>());
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(legacy));
    }

    [Fact]
    public async Task Users_of_deleted_tenants_are_neither_reported_nor_fixed()
    {
        var live = await app.CreateTenantAsync();
        var gone = await app.CreateTenantAsync();
        var users = new Dictionary<string, string>();
        foreach (var tenant in new[] { live, gone })
        {
            var provider = await ProviderAsync(tenant, "SAML");
            users[tenant] = await app.CreateUserIdAsync(tenant);
            await LinkAsync(tenant, users[tenant], provider);
        }

        // A tenant is soft-deleted only once its users are; a row like this is what older data or a race leaves behind.
        await app.DbAsync(db => db.Tenants.Where(t => t.Id == gone).ExecuteUpdateAsync(s => s.SetProperty(t => t.DeletedAt, DateTime.UtcNow)));
        using var admin = await app.AdminAsync();

        var report = UserIds(await ReportAsync(admin));
        Assert.Contains(users[live], report);
        Assert.DoesNotContain(users[gone], report);

        var fixedReport = await ReportAsync(admin, "?fix=true");
        Assert.DoesNotContain(users[gone], UserIds(fixedReport));
        Assert.Equal(IdentitySource.Saml, await IdentitySourceOfAsync(users[live]));
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(users[gone]));
        Assert.Equal(0, await app.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "user.identity_source_fixed" && e.TargetId == users[gone])));
        Assert.Equal(["query.tenant_id|value_error"], await (await admin.GetAsync($"{Path}?tenant_id={gone}")).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task A_partner_admin_sees_and_fixes_only_its_partners_tenants()
    {
        using var admin = await app.AdminAsync();
        var partner = await app.CreateAsync("/api/v1/admin/partners", new { name = Unique("Partner") });
        var otherPartner = await app.CreateAsync("/api/v1/admin/partners", new { name = Unique("Partner") });
        var own = await app.CreateTenantAsync(partnerId: partner);
        var foreign = await app.CreateTenantAsync(partnerId: otherPartner);
        var independent = await app.CreateTenantAsync();
        var users = new Dictionary<string, string>();
        foreach (var tenant in new[] { own, foreign, independent })
        {
            var provider = await ProviderAsync(tenant, "OIDC");
            var user = await app.CreateUserIdAsync(tenant);
            await LinkAsync(tenant, user, provider);
            users[tenant] = user;
        }

        using var partnerAdmin = await app.ClientWithRolesAsync(("PARTNER_ADMIN", partner, null));
        await (await partnerAdmin.GetAsync($"{Path}?tenant_id={foreign}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"{Path}?tenant_id={independent}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"{Path}?tenant_id={Guid.NewGuid()}")).ReadProblemAsync(403);
        await (await partnerAdmin.GetAsync($"{Path}?tenant_id={foreign}&fix=true")).ReadProblemAsync(403);
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(users[foreign]));

        var scoped = await ReportAsync(partnerAdmin);
        Assert.Equal([users[own]], UserIds(scoped));
        Assert.All(scoped["data"]!.AsArray(), r => Assert.Equal(own, r!["tenant_id"]!.GetValue<string>()));
        Assert.Equal([users[own]], UserIds(await ReportAsync(partnerAdmin, $"?tenant_id={own}")));

        var fixedReport = await ReportAsync(partnerAdmin, "?fix=true");
        Assert.Equal(1, fixedReport["fixed"]!.GetValue<int>());
        Assert.Equal(IdentitySource.Oidc, await IdentitySourceOfAsync(users[own]));
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(users[foreign]));
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(users[independent]));

        // A platform admin is told an unknown tenant does not exist, as on the admin list.
        Assert.Equal(["query.tenant_id|value_error"], await (await admin.GetAsync($"{Path}?tenant_id={Guid.NewGuid()}")).ReadValidationErrorsAsync());
    }

    [Fact]
    public async Task Tenant_admins_helpdesk_and_callers_without_roles_are_refused()
    {
        var tenant = await app.CreateTenantAsync();
        var oidc = await ProviderAsync(tenant, "OIDC");
        var user = await app.CreateUserIdAsync(tenant);
        await LinkAsync(tenant, user, oidc);
        using var tenantAdmin = await app.ClientWithRolesAsync(("TENANT_ADMIN", null, tenant));
        using var helpdesk = await app.ClientWithRolesAsync(("TENANT_HELPDESK", null, tenant));
        using var nobody = await app.ClientWithRolesAsync();
        foreach (var client in new[] { tenantAdmin, helpdesk, nobody })
        {
            await (await client.GetAsync(Path)).ReadProblemAsync(403);
            await (await client.GetAsync($"{Path}?tenant_id={tenant}&fix=true")).ReadProblemAsync(403);
        }

        using var anonymous = app.Anonymous();
        await (await anonymous.GetAsync(Path)).ReadProblemAsync(401);
        Assert.Equal(IdentitySource.Local, await IdentitySourceOfAsync(user));
    }

    [Fact]
    public async Task Fix_must_be_a_boolean()
    {
        using var admin = await app.AdminAsync();
        Assert.Equal(["query.fix|bool_parsing"], await (await admin.GetAsync($"{Path}?fix=maybe")).ReadValidationErrorsAsync());
        Assert.Equal(["query.fix|bool_parsing", "query.tenant_id|string_too_long"],
            (await (await admin.GetAsync($"{Path}?fix=2&tenant_id={new string('t', 65)}")).ReadValidationErrorsAsync()).Order().ToList());
        await (await admin.GetAsync($"{Path}?fix=no")).ShouldBeAsync(200);
    }
}
